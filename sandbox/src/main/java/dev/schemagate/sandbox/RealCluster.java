package dev.schemagate.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.sandbox.cluster.ControlPlane;
import dev.schemagate.sandbox.kubelet.Kubelet;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A real Kubernetes on loopback: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
 * built from Kubernetes' own Go modules ({@code scripts/tools}), and the sandbox's kubelet, which
 * runs each pod's containers as local processes. The real Job, Deployment, ReplicaSet and garbage
 * collection controllers, admission and RBAC all apply. The operator is installed with its Helm
 * chart ({@link ChartOperator}).
 */
public final class RealCluster implements Cluster {
  private static final ObjectMapper JSON = new ObjectMapper();

  public final ControlPlane controlPlane;
  public final Kubelet kubelet;
  private final Path bin;
  private volatile Instant rbacRemovedAt;

  private RealCluster(ControlPlane controlPlane, Kubelet kubelet, Path bin) {
    this.controlPlane = controlPlane;
    this.kubelet = kubelet;
    this.bin = bin;
  }

  static RealCluster start(Path home, Path work, ImageMap images, Map<String, String> baseEnv)
      throws IOException, InterruptedException {
    Path bin = ControlPlane.binaries(home);
    ControlPlane cp = ControlPlane.start(bin, work.resolve("cluster"));
    try {
      Path[] serving =
          cp.pki.issue(
              "kubelet",
              "/CN=system:node:" + ControlPlane.NODE_NAME,
              List.of("IP:127.0.0.1", "DNS:localhost", "DNS:" + ControlPlane.NODE_NAME),
              true);
      String version = cp.admin().getKubernetesVersion().getGitVersion();
      Kubelet kubelet =
          new Kubelet(
                  cp.client(cp.nodeKubeconfig()),
                  ControlPlane.NODE_NAME,
                  version,
                  images,
                  work.resolve("pods"),
                  baseEnv,
                  serving,
                  cp.pki.caPem())
              .start();
      return new RealCluster(cp, kubelet, bin);
    } catch (IOException | RuntimeException e) {
      cp.close();
      throw e;
    }
  }

  @Override
  public KubernetesClient client() {
    return controlPlane.admin();
  }

  @Override
  public Path kubeconfig() {
    return controlPlane.adminKubeconfig;
  }

  @Override
  public String url() {
    return controlPlane.url();
  }

  public Path kubectl() {
    return bin.resolve("kubectl");
  }

  @Override
  public String jobLog(String namespace, String job) {
    return client()
        .pods()
        .inNamespace(namespace)
        .withLabel("job-name", job)
        .list()
        .getItems()
        .stream()
        .max(
            Comparator.comparing((Pod p) -> p.getMetadata().getCreationTimestamp())
                .thenComparing(p -> p.getMetadata().getName()))
        .map(
            p ->
                kubelet.log(
                    namespace,
                    p.getMetadata().getName(),
                    p.getSpec().getContainers().get(0).getName()))
        .orElse("");
  }

  /**
   * The image of the ReplicaSet that holds every available replica of the Deployment, when one does
   * and no other ReplicaSet of it still has pods.
   */
  @Override
  public String rolledOutImage(String namespace, String deployment) {
    Deployment d = client().apps().deployments().inNamespace(namespace).withName(deployment).get();
    if (d == null) {
      return "";
    }
    int wanted = Objects.requireNonNullElse(d.getSpec().getReplicas(), 1);
    List<ReplicaSet> owned =
        client().apps().replicaSets().inNamespace(namespace).list().getItems().stream()
            .filter(
                rs ->
                    rs.getMetadata().getOwnerReferences() != null
                        && rs.getMetadata().getOwnerReferences().stream()
                            .anyMatch(o -> d.getMetadata().getUid().equals(o.getUid())))
            .toList();
    List<ReplicaSet> withPods =
        owned.stream()
            .filter(
                rs ->
                    rs.getStatus() != null
                        && rs.getStatus().getReplicas() != null
                        && rs.getStatus().getReplicas() > 0)
            .toList();
    if (withPods.size() != 1) {
      return "";
    }
    ReplicaSet rs = withPods.get(0);
    Integer available = rs.getStatus().getAvailableReplicas();
    return available != null && available == wanted
        ? rs.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()
        : "";
  }

  @Override
  public Operator operator(Sandbox sandbox) {
    return new ChartOperator(sandbox, this).replicas(sandbox.operatorReplicas());
  }

  /** Every container process the kubelet started, in order. */
  public List<Kubelet.Start> starts() {
    return kubelet.starts();
  }

  /**
   * What the API server's audit log holds against a user, read in one pass: {@code refused}, the
   * requests RBAC (or the Node authorizer) refused, "VERB resource: reason" (admission refusals, a
   * quota or PodSecurity, are not among them, nor are refusals during an outage the tests caused:
   * the API server refuses what RBAC allows until its caches have refilled after a restart); and
   * {@code unpaged}, the lists sent without a limit, "list resource in namespace (uri)" (an
   * informer that lists unpaged holds its whole answer at once, every Job of the cluster in full:
   * the operator's lists ask for pages).
   */
  public record AuditFindings(List<String> refused, List<String> unpaged) {}

  /** {@link AuditFindings} of a user, from the whole audit log. */
  public AuditFindings findings(String user) throws IOException, InterruptedException {
    List<String> refused = new ArrayList<>();
    List<String> unpaged = new ArrayList<>();
    for (JsonNode event : audit(user, 0)) {
      String uri = event.path("requestURI").asText();
      if ("list".equals(event.path("verb").asText()) && !uri.matches(".*[?&]limit=[1-9].*")) {
        unpaged.add(request(event) + " (" + uri + ")");
      }
      Instant at = Instant.parse(event.path("requestReceivedTimestamp").asText());
      if ((rbacRemovedAt != null && at.isAfter(rbacRemovedAt)) || controlPlane.inOutage(at)) {
        continue;
      }
      if ("forbid"
          .equals(event.path("annotations").path("authorization.k8s.io/decision").asText())) {
        refused.add(
            request(event)
                + ": "
                + event.path("annotations").path("authorization.k8s.io/reason").asText());
      }
    }
    return new AuditFindings(refused, unpaged);
  }

  /**
   * From now on the operator's RBAC goes away (helm uninstall removes the release's roles before
   * its pods have stopped): refusals after this are expected, not a fault of the chart.
   */
  public void rbacRemoved() {
    rbacRemovedAt = Instant.now();
  }

  /** Where the audit log ends now; {@link #requests} counts from such a mark. */
  public long auditMark() throws IOException, InterruptedException {
    flushAudit();
    return Files.exists(controlPlane.auditLog) ? Files.size(controlPlane.auditLog) : 0;
  }

  /**
   * A user's requests since the mark, keyed as the embedded API server counts them: "VERB
   * resource", VERB one of GET (one object), LIST, WATCH, POST, PUT, PATCH, DELETE.
   */
  public Map<String, Long> requests(String user, long since)
      throws IOException, InterruptedException {
    Map<String, Long> counts = new java.util.TreeMap<>();
    for (JsonNode event : audit(user, since)) {
      String verb =
          switch (event.path("verb").asText()) {
            case "create" -> "POST";
            case "update" -> "PUT";
            case "deletecollection" -> "DELETE";
            default -> event.path("verb").asText().toUpperCase(java.util.Locale.ROOT);
          };
      JsonNode ref = event.path("objectRef");
      String resource =
          ref.path("resource").asText()
              + (ref.has("subresource") ? "/" + ref.path("subresource").asText() : "");
      counts.merge(verb + " " + resource, 1L, Long::sum);
    }
    return counts;
  }

  private static String request(JsonNode event) {
    JsonNode ref = event.path("objectRef");
    return event.path("verb").asText()
        + " "
        + ref.path("resource").asText()
        + (ref.has("subresource") ? "/" + ref.path("subresource").asText() : "")
        + (ref.has("namespace") ? " in " + ref.path("namespace").asText() : "");
  }

  /** The audit events of a user from a byte offset of the log on. */
  private List<JsonNode> audit(String user, long since) throws IOException, InterruptedException {
    flushAudit();
    List<JsonNode> events = new ArrayList<>();
    if (!Files.exists(controlPlane.auditLog)) {
      return events;
    }
    try (var file = new java.io.RandomAccessFile(controlPlane.auditLog.toFile(), "r")) {
      file.seek(Math.min(since, file.length()));
      BufferedReader lines =
          new BufferedReader(
              new java.io.InputStreamReader(
                  java.nio.channels.Channels.newInputStream(file.getChannel()),
                  java.nio.charset.StandardCharsets.UTF_8));
      String line;
      while ((line = lines.readLine()) != null) {
        JsonNode event = JSON.readTree(line);
        if (user.equals(event.path("user").path("username").asText())) {
          events.add(event);
        }
      }
    }
    return events;
  }

  /** The API server writes its audit log in batches of at most a second. */
  private static void flushAudit() throws InterruptedException {
    TimeUnit.MILLISECONDS.sleep(1200);
  }

  @Override
  public void close() {
    kubelet.close();
    controlPlane.close();
  }
}
