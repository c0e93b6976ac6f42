package dev.schemagate.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;

/**
 * The Kubernetes the sandbox runs on: the embedded one (the fabric8 mock API server with a local
 * Job executor and Deployment controller, quick to start) or a real control plane with the
 * sandbox's kubelet ({@link RealCluster}).
 */
public interface Cluster extends AutoCloseable {
  /** A client with every right. */
  KubernetesClient client();

  /** A kubeconfig for a person (kubectl) with every right. */
  Path kubeconfig();

  String url();

  /** The log of the Job's latest pod, as {@code kubectl logs job/NAME} shows it. */
  String jobLog(String namespace, String job);

  /** The image the Deployment's pods all run once it rolled out; "" while none or mid-way. */
  String rolledOutImage(String namespace, String deployment);

  /** Runs the operator the way this cluster runs it. */
  Operator operator(Sandbox sandbox);

  @Override
  void close();
}
