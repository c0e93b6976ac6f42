package dev.schemagate.sandbox;

import dev.schemagate.sandbox.kubelet.Kubelet;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The operator installed on the real cluster the way users install it: {@code helm install} of
 * {@code charts/schemagate}, with the chart's own RBAC, service account and leader election. The
 * chart's image is mapped to the operator's jar; the kubelet hands each pod its service account's
 * token, so every request is held to the chart's RBAC.
 */
public final class ChartOperator implements Operator {
  public static final String NAMESPACE = "schemagate-system";
  public static final String RELEASE = "schemagate";

  /** The user the operator's requests carry: the chart's service account. */
  public static final String USER = "system:serviceaccount:" + NAMESPACE + ":" + RELEASE;

  public static final String LEASE = "schemagate-operator";
  static final String SELECTOR = "app.kubernetes.io/name";

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
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** How many replicas the chart runs (2 in its defaults; 1 unless set here). */
  public ChartOperator replicas(int replicas) {
    this.replicas = replicas;
    return this;
  }

  /** The image the chart names by default: schemagate/operator:APP_VERSION. */
  public static String image(Path home) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^appVersion:\\s*\"?([^\"\\s]+)\"?")
            .matcher(Files.readString(home.resolve("charts/schemagate/Chart.yaml")));
    if (!m.find()) {
      throw new IllegalStateException("charts/schemagate/Chart.yaml has no appVersion");
    }
    return "schemagate/operator:" + m.group(1);
  }

  /** The operator container's memory limit in the chart's values (as a JVM size, e.g. 384m). */
  static String memoryLimit(Path home) throws IOException {
    Matcher m =
        Pattern.compile("(?m)^  limits:\\s*\\n\\s+memory:\\s*(\\d+)([MG])i")
            .matcher(Files.readString(home.resolve("charts/schemagate/values.yaml")));
    if (!m.find()) {
      throw new IllegalStateException(
          "charts/schemagate/values.yaml sets no resources.limits.memory");
    }
    return m.group(1) + m.group(2).toLowerCase();
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
    sandbox.images.map(
        image(sandbox.home),
        new ImageMap.LocalImage(
            entrypoint(sandbox.operatorJar().getParent()),
            sandbox.operatorJar().getParent(),
            Map.of(
                // every pod has its own loopback address; the operator serves on its own
                "QUARKUS_HTTP_HOST",
                "${SANDBOX_POD_IP}",
                // no memory cgroup here: the JVM sizes its heap from the chart's memory limit
                "JDK_JAVA_OPTIONS",
                "-XX:MaxRAM=" + memoryLimit(sandbox.home)),
            "185"));
    Path values = sandbox.work.resolve("operator-values.yaml");
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
    List<String> args =
        new ArrayList<>(
            List.of(
                "install",
                RELEASE,
                sandbox.home.resolve("charts/schemagate").toString(),
                "--namespace",
                NAMESPACE,
                "--create-namespace",
                "--values",
                values.toString(),
                "--wait",
                "--timeout",
                "3m"));
    sandbox.operatorValues().forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    helm.run(args.toArray(String[]::new));
    installed = true;
  }

  /**
   * The image's entrypoint, with the places it names on this machine: the Java runtime the image
   * carries (quarkus-app/jre, made by the operator's package phase) with the start-up archive it
   * made (jvm.args), run from quarkus-app as the image runs from /deployments; the sandbox's own
   * Java when the package made no runtime (-Doperator.runtime.skip).
   */
  static List<String> entrypoint(Path app) {
    Path runtime = app.resolve("jre/bin/java");
    if (!Files.isExecutable(runtime) || !Files.exists(app.resolve("jvm.args"))) {
      return List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-Dkubernetes.user.agent=schemagate-operator",
          "-jar",
          app.resolve("quarkus-run.jar").toString());
    }
    return List.of(
        runtime.toString(),
        "@" + app.resolve("jvm.args"),
        "-XX:+ExitOnOutOfMemoryError",
        "-Dkubernetes.user.agent=schemagate-operator",
        "-jar",
        "quarkus-run.jar");
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

  /** The operator process the kubelet last started in this pod. */
  public ProcessHandle process(String pod) {
    return cluster.starts().stream()
        .filter(s -> NAMESPACE.equals(s.namespace()) && s.pod().equals(pod) && s.pid() > 0)
        .reduce((a, b) -> b)
        .flatMap(s -> ProcessHandle.of(s.pid()))
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
      if (leading && cluster.kubelet.log(NAMESPACE, leader, "operator").contains("started in")) {
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

  /** Whether a process of an operator pod still runs. */
  @Override
  public boolean isAlive() {
    return cluster.starts().stream()
        .filter(s -> NAMESPACE.equals(s.namespace()) && s.pid() > 0)
        .anyMatch(s -> ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false));
  }

  @Override
  public long pid() {
    String leader = leader();
    return cluster.starts().stream()
        .filter(s -> NAMESPACE.equals(s.namespace()) && s.pod().equals(leader))
        .reduce((a, b) -> b)
        .map(Kubelet.Start::pid)
        .orElse(-1L);
  }

  /** The process ids of the replicas that do not lead (their latest starts that still run). */
  public List<Long> followerPids() {
    String leader = leader();
    Map<String, Long> latest = new java.util.LinkedHashMap<>();
    cluster.starts().stream()
        .filter(s -> NAMESPACE.equals(s.namespace()) && s.pid() > 0 && !s.pod().equals(leader))
        .forEach(s -> latest.put(s.pod(), s.pid()));
    return latest.values().stream()
        .filter(pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        .toList();
  }

  /** Every operator pod's log, oldest pod first. */
  @Override
  public String log() {
    Path dir = cluster.kubelet.podsDir().resolve(NAMESPACE);
    if (!Files.isDirectory(dir)) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    try (Stream<Path> pods = Files.list(dir)) {
      List<Path> logs = new ArrayList<>();
      for (Path pod : pods.toList()) {
        for (String name : List.of("operator.previous.log", "operator.log")) {
          if (Files.exists(pod.resolve(name))) {
            logs.add(pod.resolve(name));
          }
        }
      }
      logs.sort(Comparator.comparing(p -> p.toFile().lastModified()));
      for (Path log : logs) {
        out.append("==> ")
            .append(log.getParent().getFileName())
            .append(" <==\n")
            .append(Files.readString(log));
      }
    } catch (IOException e) {
      out.append("(cannot read the operator's logs: ").append(e.getMessage()).append(")");
    }
    return out.toString();
  }

  private KubernetesClient client() {
    return cluster.client();
  }

  /**
   * Nothing to do: the kubelet stops the operator's pods with every other pod when the cluster
   * closes.
   */
  @Override
  public void close() {}
}
