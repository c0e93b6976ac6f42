package dev.schemagate.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.sandbox.cluster.ClusterDns;
import dev.schemagate.sandbox.cluster.ContainerEvents;
import dev.schemagate.sandbox.cluster.ControlPlane;
import dev.schemagate.sandbox.cluster.Daemon;
import dev.schemagate.sandbox.cluster.Network;
import dev.schemagate.sandbox.cluster.Node;
import dev.schemagate.sandbox.cluster.Registry;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * A real Kubernetes in the sandbox's namespaces ({@code scripts/sandbox-namespace}): etcd,
 * kube-apiserver, kube-controller-manager and kube-scheduler, one node (containerd and runc, the
 * CNI plugins, the kubelet and kube-proxy), CoreDNS, and an image registry, all built from their
 * projects' Go modules ({@code scripts/tools}). Pods are containers of schemagate's images ({@code
 * scripts/images}), pulled from the registry. The real Job, Deployment, ReplicaSet and garbage
 * collection controllers, admission and RBAC all apply. The operator is installed with its Helm
 * chart from the registry ({@link ChartOperator}).
 */
public final class RealCluster implements Cluster {
  private static final ObjectMapper JSON = new ObjectMapper();

  public final ControlPlane controlPlane;
  public final Node node;
  public final RegistryImages images;
  private final Registry registry;
  private final Path bin;
  private final Path home;
  private volatile Instant rbacRemovedAt;

  private RealCluster(
      ControlPlane controlPlane,
      Node node,
      Registry registry,
      RegistryImages images,
      Path bin,
      Path home) {
    this.home = home;
    this.controlPlane = controlPlane;
    this.node = node;
    this.registry = registry;
    this.images = images;
    this.bin = bin;
  }

  /**
   * Starts the registry and pushes schemagate's images to it while the control plane starts, then
   * the node, then the cluster's DNS; returns once the node is Ready and DNS answers.
   */
  static RealCluster start(Path home, Path work) throws IOException, InterruptedException {
    Network.requireInside();
    Path bin = ControlPlane.binaries(home);
    Path pids = work.resolve("pids");
    Daemon.stopLeftovers(pids);
    Registry registry = Registry.start(bin, work, pids);
    ControlPlane cp = null;
    Node node = null;
    try {
      CompletableFuture<RegistryImages> pushed =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return RegistryImages.push(home, bin, work.resolve("images"));
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  throw new IllegalStateException(e);
                }
              });
      cp = ControlPlane.start(bin, work.resolve("cluster"));
      RegistryImages images = join(pushed);
      node =
          Node.start(
              bin,
              home.resolve(".tools/cni/bin"),
              work.resolve("node"),
              cp,
              images.project("pause"));
      ClusterDns.install(cp.admin(), images.project("coredns"));
      return new RealCluster(cp, node, registry, images, bin, home);
    } catch (IOException | InterruptedException | RuntimeException e) {
      if (node != null) {
        node.close();
      }
      if (cp != null) {
        cp.close();
      }
      registry.close();
      throw e;
    }
  }

  private static <T> T join(CompletableFuture<T> future) throws IOException {
    try {
      return future.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UncheckedIOException io) {
        throw io.getCause();
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
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

  /**
   * A command a person runs in another terminal to use kubectl on this cluster: a script that
   * enters the sandbox's namespaces ({@code scripts/sandbox-namespace --enter}) and runs kubectl
   * with the admin kubeconfig.
   */
  public String kubectlCommand() throws IOException {
    String hostPid = System.getenv("SCHEMAGATE_SANDBOX_HOST_PID");
    Path script = controlPlane.dir.getParent().resolve("kubectl");
    Files.writeString(
        script,
        String.join(
            "\n",
            "#!/bin/sh",
            "# kubectl on the sandbox cluster, from the host: enters its network namespace (as root)",
            "exec " + home.resolve("scripts/sandbox-namespace") + " --enter " + hostPid + " \\",
            "  " + kubectl() + " --kubeconfig " + kubeconfig() + " \"$@\"",
            ""));
    script.toFile().setExecutable(true);
    return script.toString();
  }

  /**
   * A Service that sends its port to an address outside the pod network (the node's: PostgreSQL),
   * through an EndpointSlice of its own, as a selectorless Service does.
   */
  void serviceFor(String namespace, String name, String ip, int targetPort, int port) {
    KubernetesClient c = client();
    if (c.namespaces().withName(namespace).get() == null) {
      c.namespaces()
          .resource(
              new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
          .create();
    }
    c.services()
        .inNamespace(namespace)
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addNewPort()
                .withName("db")
                .withPort(port)
                .withNewTargetPort(targetPort)
                .endPort()
                .endSpec()
                .build())
        .create();
    c.discovery()
        .v1()
        .endpointSlices()
        .inNamespace(namespace)
        .resource(
            new EndpointSliceBuilder()
                .withNewMetadata()
                .withName(name)
                .addToLabels("kubernetes.io/service-name", name)
                .addToLabels("endpointslice.kubernetes.io/managed-by", "schemagate-sandbox")
                .endMetadata()
                .withAddressType("IPv4")
                .addNewEndpoint()
                .withAddresses(ip)
                .endEndpoint()
                .addNewPort()
                .withName("db")
                .withPort(targetPort)
                .withProtocol("TCP")
                .endPort()
                .build())
        .create();
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
        .map(p -> podLog(namespace, p.getMetadata().getName(), null))
        .orElse("");
  }

  /** A container's log, as {@code kubectl logs} shows it ("" when it has none yet). */
  public String podLog(String namespace, String pod, String container) {
    try {
      var p = client().pods().inNamespace(namespace).withName(pod);
      return container == null ? p.getLog() : p.inContainer(container).getLog();
    } catch (KubernetesClientException e) {
      return "";
    }
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

  /** Every container the node started, in order. */
  public List<ContainerEvents.Start> starts() {
    return node.containers().starts();
  }

  /** Every container of the node that ended, in order. */
  public List<ContainerEvents.Exit> exits() {
    return node.containers().exits();
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
    Map<String, Long> counts = new TreeMap<>();
    for (JsonNode event : audit(user, since)) {
      String verb =
          switch (event.path("verb").asText()) {
            case "create" -> "POST";
            case "update" -> "PUT";
            case "deletecollection" -> "DELETE";
            default -> event.path("verb").asText().toUpperCase(Locale.ROOT);
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
    try (var file = new RandomAccessFile(controlPlane.auditLog.toFile(), "r")) {
      file.seek(Math.min(since, file.length()));
      BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(
                  Channels.newInputStream(file.getChannel()), StandardCharsets.UTF_8));
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

  /** Stops the node (its containers first), the control plane and the registry. */
  @Override
  public void close() {
    try {
      node.close();
    } finally {
      try {
        controlPlane.close();
      } finally {
        registry.close();
      }
    }
  }
}
