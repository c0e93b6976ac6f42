package dev.schemagate.sandbox;

import dev.schemagate.sandbox.cluster.ContainerEvents;
import dev.schemagate.sandbox.cluster.Network;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The operator installed on the real cluster the way users install it: the chart pushed to the
 * sandbox's registry as an OCI artifact, then {@code helm install schemagate
 * oci://REGISTRY/charts/schemagate}, with the chart's own RBAC, service account and leader
 * election, running the operator's image by digest. Every request it makes is held to the chart's
 * RBAC.
 */
public final class ChartOperator implements Operator {
  public static final String NAMESPACE = "schemagate-system";
  public static final String RELEASE = "schemagate";

  /** The user the operator's requests carry: the chart's service account. */
  public static final String USER = "system:serviceaccount:" + NAMESPACE + ":" + RELEASE;

  public static final String LEASE = "schemagate-operator";
  static final String SELECTOR = "app.kubernetes.io/name";

  /** The operator's container in the chart's pods. */
  public static final String CONTAINER = "operator";

  private final Sandbox sandbox;
  private final RealCluster cluster;
  private final Helm helm;
  private int replicas = 1;
  private boolean installed;

  ChartOperator(Sandbox sandbox, RealCluster cluster) {
    this.sandbox = sandbox;
    this.cluster = cluster;
    try {
      this.helm = new Helm(sandbox.home, cluster.kubeconfig(), sandbox.work);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** How many replicas the chart runs (2 in its defaults; 1 unless set here). */
  public ChartOperator replicas(int replicas) {
    this.replicas = replicas;
    return this;
  }

  /** The chart's version (Chart.yaml's version). */
  static String chartVersion(Path home) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^version:\\s*\"?([^\"\\s]+)\"?")
            .matcher(Files.readString(home.resolve("charts/schemagate/Chart.yaml")));
    if (!m.find()) {
      throw new IllegalStateException("charts/schemagate/Chart.yaml has no version");
    }
    return m.group(1);
  }

  /** Where helm installs the chart from: the sandbox's registry. */
  public static String chartReference() {
    return "oci://" + Network.REGISTRY + "/charts/schemagate";
  }

  @Override
  public ChartOperator start() throws Exception {
    if (!installed) {
      install();
    } else {
      scale(replicas);
    }
    awaitLeader(Duration.ofSeconds(90));
    return this;
  }

  private void install() throws Exception {
    Path values = sandbox.work.resolve("operator-values.yaml");
    // no image: the chart names the operator's by digest, as a released chart does
    StringBuilder yaml = new StringBuilder("replicaCount: " + replicas + "\n");
    if (!sandbox.operatorEnv().isEmpty()) {
      yaml.append("extraEnv:\n");
      sandbox
          .operatorEnv()
          .forEach(
              (k, v) ->
                  yaml.append("- name: ")
                      .append(k)
                      .append("\n  value: \"")
                      .append(v)
                      .append("\"\n"));
    }
    yaml.append(sandbox.chartValues());
    Files.writeString(values, yaml);
    publishChart();
    // README.md's install command, as a user runs it, with what the sandbox adds: its registry
    // serves plain HTTP, and the test's values
    List<String> args = new ArrayList<>(readmeInstall(sandbox.home));
    args.addAll(List.of("--plain-http", "--values", values.toString(), "--timeout", "3m"));
    sandbox.operatorValues().forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    helm.run(args.toArray(String[]::new));
    installed = true;
  }

  /** README.md's install command (helm's arguments), its continuation lines joined. */
  static final Pattern README_INSTALL =
      Pattern.compile("(?m)^helm install schemagate oci://REGISTRY/(?:.*\\\\\n)*.*$");

  /**
   * README.md's `helm install schemagate oci://REGISTRY/...` command, as helm's arguments, with the
   * sandbox's registry for REGISTRY; it must install this release, of this chart version, in this
   * namespace, as the tests read it.
   */
  static List<String> readmeInstall(Path home) throws IOException {
    Matcher command = README_INSTALL.matcher(Files.readString(home.resolve("README.md")));
    if (!command.find()) {
      throw new IllegalStateException(
          "README.md has no `helm install schemagate oci://REGISTRY/...` command");
    }
    List<String> words =
        List.of(
            command
                .group()
                .replace("\\\n", " ")
                .replace("REGISTRY", Network.REGISTRY)
                .trim()
                .split("\\s+"));
    List<String> args = words.subList(1, words.size());
    List<String> expected =
        List.of(
            "install",
            RELEASE,
            chartReference(),
            "--version",
            chartVersion(home),
            "--namespace",
            NAMESPACE);
    for (String word : expected) {
      if (!args.contains(word)) {
        throw new IllegalStateException(
            "README.md's install command (" + String.join(" ", words) + ") lacks " + word);
      }
    }
    return args;
  }

  /**
   * Packages charts/schemagate with the operator's image written into it and pushes it to the
   * registry: scripts/chart push, the command a release runs.
   */
  private void publishChart() throws Exception {
    helm.script(sandbox.home.resolve("scripts/chart"), "push", Network.REGISTRY, "--plain-http");
  }

  /** helm uninstall, waiting until the release's objects are gone. */
  public String uninstall() throws Exception {
    cluster.rbacRemoved();
    String out =
        helm.run("uninstall", RELEASE, "--namespace", NAMESPACE, "--wait", "--timeout", "3m");
    installed = false;
    return out;
  }

  public Helm helm() {
    return helm;
  }

  /**
   * The identity that holds the Lease ({@code <pod>_<suffix of its process>}), "" when it is free,
   * null before there is one.
   */
  public String leaderIdentity() {
    Lease lease = client().leases().inNamespace(NAMESPACE).withName(LEASE).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  /** The pod whose operator holds the Lease, or null. */
  public String leader() {
    return podOf(leaderIdentity());
  }

  /** The pod of a leader-election identity: its part before '_' (a pod name has none). */
  public static String podOf(String identity) {
    if (identity == null || identity.isEmpty()) {
      return null;
    }
    int cut = identity.indexOf('_');
    return cut < 0 ? identity : identity.substring(0, cut);
  }

  /** The operator's process in this pod (its container's, as the node sees it). */
  public ProcessHandle process(String pod) {
    long pid = cluster.node.pid(NAMESPACE, pod, CONTAINER);
    return ProcessHandle.of(pid)
        .orElseThrow(() -> new IllegalStateException("no operator process in pod " + pod));
  }

  public List<Pod> pods() {
    return client()
        .pods()
        .inNamespace(NAMESPACE)
        .withLabel(SELECTOR, "schemagate")
        .list()
        .getItems();
  }

  /** Waits until a running pod of the release holds the Lease and its controller runs. */
  public void awaitLeader(Duration limit) throws Exception {
    Instant deadline = Instant.now().plus(limit);
    while (true) {
      String leader = leader();
      boolean leading =
          leader != null
              && pods().stream()
                  .anyMatch(
                      p ->
                          p.getMetadata().getName().equals(leader)
                              && p.getMetadata().getDeletionTimestamp() == null
                              && "Running".equals(p.getStatus().getPhase()));
      if (leading && cluster.podLog(NAMESPACE, leader, CONTAINER).contains("started in")) {
        return;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "no replica of the operator leads after "
                + limit.toSeconds()
                + " s (Lease holder: "
                + leader
                + ")\n"
                + log());
      }
      Thread.sleep(100);
    }
  }

  /** Scales the chart's Deployment. */
  public void scale(int n) {
    client().apps().deployments().inNamespace(NAMESPACE).withName(RELEASE).scale(n);
  }

  @Override
  public void kill() throws Exception {
    scale(0);
    client()
        .pods()
        .inNamespace(NAMESPACE)
        .withLabel(SELECTOR, "schemagate")
        .withGracePeriod(0)
        .delete();
    Instant deadline = Instant.now().plusSeconds(30);
    while (!pods().isEmpty() || isAlive()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("the operator's pods did not go away");
      }
      Thread.sleep(50);
    }
  }

  /** Whether a container of an operator pod still runs. */
  @Override
  public boolean isAlive() {
    return operatorStarts()
        .anyMatch(s -> ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false));
  }

  @Override
  public long pid() {
    String leader = leader();
    return operatorStarts()
        .filter(s -> s.pod().equals(leader))
        .reduce((a, b) -> b)
        .map(ContainerEvents.Start::pid)
        .orElse(-1L);
  }

  /** The process ids of the replicas that do not lead (their latest starts that still run). */
  public List<Long> followerPids() {
    String leader = leader();
    Map<String, Long> latest = new LinkedHashMap<>();
    operatorStarts()
        .filter(s -> !s.pod().equals(leader))
        .forEach(s -> latest.put(s.pod(), s.pid()));
    return latest.values().stream()
        .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .toList();
  }

  private Stream<ContainerEvents.Start> operatorStarts() {
    return cluster.starts().stream()
        .filter(s -> NAMESPACE.equals(s.namespace()) && CONTAINER.equals(s.container()));
  }

  /** Every operator pod's log (the previous container's first, where it restarted). */
  @Override
  public String log() {
    StringBuilder out = new StringBuilder();
    for (Pod pod : pods()) {
      String name = pod.getMetadata().getName();
      boolean restarted =
          pod.getStatus() != null
              && pod.getStatus().getContainerStatuses() != null
              && pod.getStatus().getContainerStatuses().stream()
                  .anyMatch(c -> c.getRestartCount() != null && c.getRestartCount() > 0);
      if (restarted) {
        try {
          out.append("==> ")
              .append(name)
              .append(" (previous) <==\n")
              .append(
                  client()
                      .pods()
                      .inNamespace(NAMESPACE)
                      .withName(name)
                      .inContainer(CONTAINER)
                      .terminated()
                      .getLog());
        } catch (RuntimeException e) {
          // no previous log kept
        }
      }
      out.append("==> ")
          .append(name)
          .append(" <==\n")
          .append(cluster.podLog(NAMESPACE, name, CONTAINER));
    }
    return out.toString();
  }

  private KubernetesClient client() {
    return cluster.client();
  }

  /** Nothing to do: the node stops the operator's pods with every other pod when it stops. */
  @Override
  public void close() {}
}
