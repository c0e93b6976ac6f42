package dev.schemagate.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The embedded cluster: the fabric8 mock API server in CRUD mode with the CRD, a local Job executor
 * (Job controller and kubelet in one) and a small Deployment controller that makes the app's pods.
 * It starts in a second. Its one admission is the chart's default: pods that name a
 * DatabaseMigration go through the operator's own admission webhook (the operator serves it, and
 * runs in Admission mode, as the chart sets it); it has no RBAC, scheduler or garbage collector.
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
    int port = freePort();
    int webhookPort = freePort();
    WebhookCertificate certificate;
    try {
      certificate = WebhookCertificate.make(sandbox.work.resolve("webhook-tls"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // as the chart installs it: Admission by default, the webhook served by the operator over
    // HTTPS with a certificate the API server trusts
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SCHEMAGATE_GATE_MODE", "Admission");
    env.put("SCHEMAGATE_WEBHOOK_ENABLED", "true");
    env.put("SCHEMAGATE_WEBHOOK_PORT", Integer.toString(webhookPort));
    env.put("SCHEMAGATE_WEBHOOK_CERT_FILE", certificate.cert().toString());
    env.put("SCHEMAGATE_WEBHOOK_KEY_FILE", certificate.key().toString());
    env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
    env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
    env.putAll(sandbox.operatorEnv());
    api.admitPodsThrough(
        URI.create("https://127.0.0.1:" + env.get("SCHEMAGATE_WEBHOOK_PORT") + "/mutate-pods"),
        certificate.trust());
    return new OperatorProcess(
        sandbox.operatorJar(), kubeconfig, sandbox.work.resolve("operator.log"), env);
  }

  private static int freePort() {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    jobs.close();
    deployments.close();
    api.close();
  }
}
