package dev.schemagate.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The embedded cluster: the fabric8 mock API server in CRUD mode with the CRD, a local Job executor
 * (Job controller and kubelet in one) and a small Deployment controller. It starts in a second; it
 * has no admission, RBAC, scheduler or garbage collector.
 */
public final class MockCluster implements Cluster {
  public final ApiServer api;
  public final JobExecutor jobs;
  public final DeploymentController deployments;

  /** Which local command stands for which image. */
  public final ImageMap images;

  private final Path kubeconfig;

  MockCluster(Path home, Path work, ImageMap images, Map<String, String> baseEnv)
      throws IOException {
    this.images = images;
    api = new ApiServer(home.resolve("crds/databasemigrations.schemagate.dev-v1.yml"));
    kubeconfig = api.writeKubeconfig(work.resolve("kubeconfig"));
    jobs =
        new JobExecutor(
                api.client(), images, Files.createDirectories(work.resolve("pods")), baseEnv)
            .start();
    deployments = new DeploymentController(api.client()).start();
  }

  @Override
  public KubernetesClient client() {
    return api.client();
  }

  @Override
  public Path kubeconfig() {
    return kubeconfig;
  }

  @Override
  public String url() {
    return api.url();
  }

  @Override
  public String jobLog(String namespace, String job) {
    return jobs.log(namespace, job);
  }

  @Override
  public String rolledOutImage(String namespace, String deployment) {
    return deployments.rolledOutImage(namespace, deployment);
  }

  @Override
  public Operator operator(Sandbox sandbox) {
    return new OperatorProcess(
        sandbox.operatorJar(),
        kubeconfig,
        sandbox.work.resolve("operator.log"),
        sandbox.operatorEnv());
  }

  @Override
  public void close() {
    jobs.close();
    deployments.close();
    api.close();
  }
}
