package dev.schemagate.bench;

import static dev.schemagate.sandbox.Demo.isReady;
import static dev.schemagate.sandbox.Demo.waitFor;
import static dev.schemagate.sandbox.Handlers.onChange;

import dev.schemagate.sandbox.ChartOperator;
import dev.schemagate.sandbox.Demo;
import dev.schemagate.sandbox.OperatorProcess;
import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The operator's benchmarks on the sandbox, with Jobs that complete after a set delay: on the
 * embedded API server (the operator as a process of its own) or, with -Dbench.cluster=real, on the
 * real control plane (the operator installed with its chart, one replica).
 */
final class ClusterBench {
  static final String IMAGE = "bench/simulated:1";
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\",\"toRevision\":\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":1}";

  private final Path home;
  private final Path results;
  private final Sandbox.Kind kind;
  private final List<OperatorProcess> followers = new ArrayList<>();

  ClusterBench(Path home, Path results) {
    this.home = home;
    this.results = results;
    this.kind =
        "real".equals(System.getProperty("bench.cluster"))
            ? Sandbox.Kind.REAL
            : Sandbox.Kind.EMBEDDED;
  }

  Sandbox sandbox(String name, Duration jobRuns) throws Exception {
    Path work = home.resolve("bench/target/" + name);
    Demo.clean(work);
    Sandbox sandbox = Sandbox.start(home, work, null, kind);
    sandbox.simulatedImage(IMAGE, jobRuns, RESULT, 0);
    sandbox.namespace("bench");
    return sandbox;
  }

  boolean real() {
    return kind == Sandbox.Kind.REAL;
  }

  /** A table's title, saying where it was measured. */
  String title(String title) {
    return title + (real() ? " (real control plane)" : " (embedded API server)");
  }

  /** A result file's name, one per place measured. */
  String file(String name) {
    return real() ? name.replace(".md", "-real.md") : name;
  }

  /**
   * When each Job's Complete reached the API server: the embedded executor says when its write
   * returned; on the real control plane, the bench's own watch sees the Job controller's write.
   */
  private Map<String, Instant> jobCompletions(Sandbox sandbox) {
    Map<String, Instant> completed = new ConcurrentHashMap<>();
    if (!real()) {
      sandbox.mock().jobs.onFinished((job, at) -> completed.put(job.getMetadata().getName(), at));
      return completed;
    }
    sandbox
        .client()
        .batch()
        .v1()
        .jobs()
        .inNamespace("bench")
        .inform(
            onChange(
                job -> {
                  if (job.getStatus() != null
                      && job.getStatus().getConditions() != null
                      && job.getStatus().getConditions().stream()
                          .anyMatch(
                              c ->
                                  "Complete".equals(c.getType()) && "True".equals(c.getStatus()))) {
                    completed.putIfAbsent(job.getMetadata().getName(), Instant.now());
                  }
                }));
    return completed;
  }

  /**
   * Counts the operator's requests from a mark on: the embedded server counts them; the real one
   * audits them.
   */
  private final class Requests {
    private final Sandbox sandbox;
    private long mark;

    Requests(Sandbox sandbox) throws Exception {
      this.sandbox = sandbox;
      reset();
    }

    void reset() throws Exception {
      if (real()) {
        mark = sandbox.real().auditMark();
      } else {
        sandbox.mock().api.requests.clear();
      }
    }

    /**
     * "VERB resource" -> count, the Lease's own renewals apart ({@code leases} true: only those).
     */
    Map<String, Long> operator(boolean leases) throws Exception {
      Map<String, Long> out = new TreeMap<>();
      if (real()) {
        sandbox
            .real()
            .requests(ChartOperator.USER, mark)
            .forEach(
                (k, v) -> {
                  if (k.endsWith(" leases") == leases) {
                    out.put(k, v);
                  }
                });
        return out;
      }
      sandbox
          .mock()
          .api
          .counts()
          .forEach(
              (k, v) -> {
                if (k.startsWith("operator ") && k.endsWith(" leases") == leases) {
                  out.put(k.substring("operator ".length()), v);
                }
              });
      return out;
    }
  }

  /**
   * A Deployment to gate; on the real control plane with no replicas: gating is about the
   * Deployment object, and the embedded sandbox runs no pods for it either.
   */
  Deployment deployment(String ns, String name) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .endMetadata()
        .withNewSpec()
        .withReplicas(real() ? 0 : 1)
        .withNewSelector()
        .addToMatchLabels("app", name)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .withImage("bench/app:1")
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  static GenericKubernetesResource migration(String ns, String name, String target, String gated) {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    Map<String, Object> spec = new HashMap<>();
    spec.put("image", IMAGE);
    spec.put("targetRevision", target);
    spec.put("gate", Map.of("deployments", List.of(gated)));
    spec.put("historyLimit", 5);
    dbm.setAdditionalProperty("spec", spec);
    return dbm;
  }

  /** 1. From a Job's Complete in the API server to the Deployment resumed and to Ready. */
  void latency(int runs) throws Exception {
    try (Sandbox sandbox = sandbox("latency", Duration.ofMillis(20))) {
      KubernetesClient client = sandbox.client();
      Map<String, Instant> completed = jobCompletions(sandbox);
      Map<String, Instant> readyAt = new ConcurrentHashMap<>();
      List<Instant> resumedAt = Collections.synchronizedList(new ArrayList<>());
      Map<String, Boolean> pausedNow = new ConcurrentHashMap<>();
      client
          .apps()
          .deployments()
          .inNamespace("bench")
          .inform(
              onChange(
                  d -> {
                    boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
                    Boolean before = pausedNow.put(d.getMetadata().getName(), paused);
                    if (Boolean.TRUE.equals(before) && !paused) {
                      resumedAt.add(Instant.now());
                    }
                  }));
      client
          .apps()
          .deployments()
          .inNamespace("bench")
          .resource(deployment("bench", "app"))
          .create();
      // on the real control plane the chart installs the CRD: the DatabaseMigrations are watched
      // after it
      sandbox.startOperator();
      client
          .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
          .inNamespace("bench")
          .inform(
              onChange(
                  dbm -> {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> status =
                        (Map<String, Object>) dbm.getAdditionalProperties().get("status");
                    if (status != null && "Ready".equals(status.get("phase"))) {
                      readyAt.putIfAbsent(
                          String.valueOf(status.get("currentRevision")), Instant.now());
                    }
                  }));
      Instant start = Instant.now();
      client.resource(migration("bench", "lat", "r0", "app")).inNamespace("bench").create();
      waitFor("first run", Duration.ofSeconds(60), () -> readyAt.containsKey("r0"));
      List<Double> toResumed = new ArrayList<>();
      List<Double> toReady = new ArrayList<>();
      List<Double> polled = new ArrayList<>();
      for (int i = 1; i <= runs; i++) {
        String revision = "r" + i;
        int resumedBefore = resumedAt.size();
        bumpTarget(client, "bench", "lat", revision);
        waitFor(
            "run " + i,
            Duration.ofSeconds(60),
            () -> readyAt.containsKey(revision) && resumedAt.size() > resumedBefore);
        GenericKubernetesResource dbm =
            client
                .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
                .inNamespace("bench")
                .withName("lat")
                .get();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> history =
            (List<Map<String, Object>>)
                ((Map<String, Object>) dbm.getAdditionalProperties().get("status")).get("history");
        String job = String.valueOf(history.get(0).get("job"));
        // on the real control plane the operator acts on the Job's SuccessCriteriaMet, which comes
        // before Complete: Ready may be seen before the watch sees Complete
        waitFor(job + " Complete", Duration.ofSeconds(60), () -> completed.containsKey(job));
        Instant done = completed.get(job);
        toResumed.add(millis(done, resumedAt.get(resumedAt.size() - 1)));
        toReady.add(millis(done, readyAt.get(revision)));
        long sinceStart = Duration.between(start, done).toMillis();
        polled.add((double) (5000 - sinceStart % 5000) + toReady.get(toReady.size() - 1));
      }
      Stats resumed = Stats.of(toResumed);
      Stats ready = Stats.of(toReady);
      Stats poll = Stats.of(polled);
      new Table(
              title(
                  "1. Reaction latency: Job Complete in the API server -> the operator's reaction ("
                      + runs
                      + " runs)"))
          .row(
              "Deployment resumed, p50 / p99 / max",
              fmt(resumed.median())
                  + " / "
                  + fmt(resumed.p(99))
                  + " / "
                  + fmt(resumed.max())
                  + " ms",
              "p99 < 100 ms",
              Table.met(resumed.p(99) < 100))
          .row(
              "DatabaseMigration Ready=True, p50 / p99 / max",
              fmt(ready.median()) + " / " + fmt(ready.p(99)) + " / " + fmt(ready.max()) + " ms",
              "p99 < 100 ms",
              Table.met(ready.p(99) < 100))
          .row(
              "a 5 s requeue design on the same runs (Ready), p50 / p99 / max",
              fmt(poll.median()) + " / " + fmt(poll.p(99)) + " / " + fmt(poll.max()) + " ms",
              "",
              "")
          .print(results, file("1-latency.md"));
    }
  }

  /** 2. Mutating requests (and uncached reads) for one full lifecycle, by kind. */
  void writes() throws Exception {
    try (Sandbox sandbox = sandbox("writes", Duration.ofMillis(50))) {
      KubernetesClient client = sandbox.client();
      client
          .apps()
          .deployments()
          .inNamespace("bench")
          .resource(deployment("bench", "app"))
          .create();
      sandbox.startOperator();
      Thread.sleep(2000);
      Requests requests = new Requests(sandbox);
      client.resource(migration("bench", "w", "r1", "app")).inNamespace("bench").create();
      waitFor(
          "first lifecycle",
          Duration.ofSeconds(60),
          () -> isReady(dbm(client, "w"), "r1") && !paused(client));
      Thread.sleep(2000);
      Map<String, Long> first = requests.operator(false);
      requests.reset();
      bumpTarget(client, "bench", "w", "r2");
      waitFor(
          "second lifecycle",
          Duration.ofSeconds(60),
          () -> isReady(dbm(client, "w"), "r2") && !paused(client));
      Thread.sleep(2000);
      Map<String, Long> second = requests.operator(false);
      requests.reset();
      Thread.sleep(10_000);
      Map<String, Long> idle = requests.operator(false);
      Map<String, Long> leases = requests.operator(true);
      long firstWrites = writes(first);
      long secondWrites = writes(second);
      long reads = reads(first) + reads(second);
      new Table(
              title(
                  "2. API requests the operator sends for one lifecycle (held -> run -> recorded -> released)"))
          .row(
              "mutating requests, first lifecycle of a new resource",
              firstWrites + ": " + list(first, true),
              "<= 6",
              Table.met(firstWrites <= 6))
          .row(
              "mutating requests, a later lifecycle (new target)",
              secondWrites + ": " + list(second, true),
              "<= 6",
              Table.met(secondWrites <= 6))
          .row(
              "reads of one object (bypassing the informer cache), both lifecycles",
              reads + (reads == 0 ? "" : ": " + list(first, false)),
              "0",
              Table.met(reads == 0))
          .row(
              "requests of any kind in 10 s idle after, but the Lease",
              Long.toString(idle.values().stream().mapToLong(Long::longValue).sum()),
              "0 (no polling)",
              Table.met(idle.isEmpty()))
          .row("leader election's Lease renewals in those 10 s", leases.toString(), "", "")
          .print(results, file("2-writes.md"));
    }
  }

  /**
   * 3. 1,000 DatabaseMigrations across 100 namespaces, created at once; then idle, with a second
   * replica that follows.
   */
  void scale(int count, int namespaces, Duration idleFor) throws Exception {
    try (Sandbox sandbox = sandbox("scale", Duration.ZERO)) {
      scale(sandbox, count, namespaces, idleFor);
    } finally {
      for (OperatorProcess follower : followers) {
        follower.close();
      }
      followers.clear();
    }
  }

  private void scale(Sandbox sandbox, int count, int namespaces, Duration idleFor)
      throws Exception {
    KubernetesClient client = sandbox.client();
    for (int n = 0; n < namespaces; n++) {
      sandbox.namespace("ns-" + n);
    }
    for (int i = 0; i < count; i++) {
      client
          .apps()
          .deployments()
          .inNamespace("ns-" + (i % namespaces))
          .resource(deployment("ns-" + (i % namespaces), "app-" + i))
          .create();
    }
    awaitDeploymentsSettled(client, count);
    String loadBefore = Machine.loadAverage();
    sandbox.startOperator();
    long pid = sandbox.operator().pid();
    Thread.sleep(2000);
    AtomicInteger readyCount = readyCounter(client, "r1");
    double cpuBefore = Machine.cpuSeconds(pid);
    Instant start = Instant.now();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    for (int i = 0; i < count; i++) {
      final int k = i;
      pool.submit(
          () ->
              client
                  .resource(migration("ns-" + (k % namespaces), "m-" + k, "r1", "app-" + k))
                  .inNamespace("ns-" + (k % namespaces))
                  .create());
    }
    pool.shutdown();
    waitFor("all Ready", Duration.ofMinutes(20), () -> readyCount.get() >= count);
    double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
    double cpuBusy = Machine.cpuSeconds(pid) - cpuBefore;
    double peak = Machine.statusMiB(pid, "VmHWM");
    String loadBusy = Machine.loadAverage();
    long follower = startFollower(sandbox);
    Thread.sleep(10_000);
    Requests requests = new Requests(sandbox);
    Map<String, Double> threadsBefore = Machine.threadCpuSeconds(pid);
    double cpuIdleStart = Machine.cpuSeconds(pid);
    double followerIdleStart = follower > 0 ? Machine.cpuSeconds(follower) : 0;
    Thread.sleep(idleFor.toMillis());
    double cpuIdle = Machine.cpuSeconds(pid) - cpuIdleStart;
    double followerIdle = follower > 0 ? Machine.cpuSeconds(follower) - followerIdleStart : 0;
    Map<String, Double> threadsAfter = Machine.threadCpuSeconds(pid);
    Map<String, Long> idleRequests = requests.operator(false);
    Map<String, Long> leaseRequests = requests.operator(true);
    double rssAfter = Machine.statusMiB(pid, "VmRSS");
    double heap =
        Machine.heapAfterFullGcMiB(
            pid, home.resolve("bench/target/scale-histogram-" + count + ".txt"));
    long idleSeconds = idleFor.toSeconds();
    new Table(
            title(
                "3. Scale: "
                    + count
                    + " DatabaseMigrations across "
                    + namespaces
                    + " namespaces, each gating a Deployment, created at once"))
        .note(
            "Load average when the operator started / when all were Ready / at the end: "
                + loadBefore
                + " / "
                + loadBusy
                + " / "
                + Machine.loadAverage())
        .row(
            "time until all Ready",
            String.format("%.1f s", seconds),
            "< 60 s",
            Table.met(seconds < 60))
        .row("operator CPU used meanwhile", String.format("%.1f s", cpuBusy), "", "")
        .row(
            "operator peak RSS (VmHWM; JVM: "
                + (real()
                    ? "the chart's javaOptions under its 384 MiB limit"
                    : String.join(" ", OperatorProcess.jvmOptions()))
                + ")",
            String.format("%.0f MiB", peak),
            "<= 384 MiB (the chart's limit)",
            Table.met(peak <= 384))
        .row(
            "leader's CPU in " + idleSeconds + " s idle after",
            String.format("%.2f s (%.2f%% of a core)", cpuIdle, 100 * cpuIdle / idleSeconds),
            "< 0.5% of a core",
            Table.met(cpuIdle / idleSeconds < 0.005))
        .row(
            "its busiest threads meanwhile (CPU seconds)",
            Machine.busiest(threadsBefore, threadsAfter, 5))
        .row(
            "follower's CPU in those " + idleSeconds + " s",
            follower > 0
                ? String.format(
                    "%.2f s (%.2f%% of a core)", followerIdle, 100 * followerIdle / idleSeconds)
                : "no follower",
            "less than the leader's",
            Table.met(follower > 0 && followerIdle < cpuIdle))
        .row(
            "requests of both replicas in those " + idleSeconds + " s, but the Lease's",
            idleRequests.isEmpty() ? "0" : idleRequests.toString(),
            "0",
            Table.met(idleRequests.isEmpty()))
        .row("their Lease requests", leaseRequests.toString())
        .row("leader's RSS after idling", String.format("%.0f MiB", rssAfter))
        .row("leader's heap after a full GC", String.format("%.1f MiB", heap))
        .print(results, file(count == 1000 ? "3-scale.md" : "3-scale-" + count + ".md"));
  }

  /** A second replica, which follows the leader: its process id (-1 when none could start). */
  private long startFollower(Sandbox sandbox) throws Exception {
    if (real()) {
      sandbox
          .real()
          .client()
          .apps()
          .deployments()
          .inNamespace(ChartOperator.NAMESPACE)
          .withName(ChartOperator.RELEASE)
          .scale(2);
      ChartOperator chart = (ChartOperator) sandbox.operator();
      Instant deadline = Instant.now().plusSeconds(120);
      while (chart.followerPids().isEmpty() && Instant.now().isBefore(deadline)) {
        Thread.sleep(200);
      }
      return chart.followerPids().isEmpty() ? -1 : chart.followerPids().get(0);
    }
    OperatorProcess follower =
        new OperatorProcess(
                sandbox.operatorJar(),
                sandbox.kubeconfig,
                sandbox.work.resolve("follower.log"),
                Map.of())
            .start();
    followers.add(follower);
    return follower.pid();
  }

  /**
   * How many DatabaseMigrations of any namespace the bench's own watch has seen Ready at a
   * revision, each counted once.
   */
  static AtomicInteger readyCounter(KubernetesClient client, String revision) {
    AtomicInteger ready = new AtomicInteger();
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    client
        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
        .inAnyNamespace()
        .inform(
            onChange(
                d -> {
                  if (isReady(d, revision)
                      && seen.putIfAbsent(
                              d.getMetadata().getNamespace() + "/" + d.getMetadata().getName(),
                              true)
                          == null) {
                    ready.incrementAndGet();
                  }
                }));
    return ready;
  }

  /**
   * On the real control plane, waits until the Deployment controller has caught up with the
   * Deployments the bench created (each has its ReplicaSet), as on a cluster where they have been
   * for a while; the embedded API server has no such controller.
   */
  void awaitDeploymentsSettled(KubernetesClient client, int deployments) throws Exception {
    if (!real()) {
      return;
    }
    waitFor(
        deployments + " Deployments have their ReplicaSets",
        Duration.ofMinutes(20),
        () -> {
          var page =
              client
                  .apps()
                  .replicaSets()
                  .inAnyNamespace()
                  .list(new ListOptionsBuilder().withLimit(1L).build());
          Long more = page.getMetadata().getRemainingItemCount();
          if (page.getItems().size() + (more == null ? 0 : more) >= deployments) {
            return true;
          }
          try {
            Thread.sleep(1000); // one list a second, not waitFor's every 5 ms
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return false;
        });
  }

  /**
   * Moves a DatabaseMigration's spec.targetRevision, as a user's edit would (again on a conflict).
   */
  static void bumpTarget(KubernetesClient client, String namespace, String name, String revision) {
    Demo.retryOnConflict(
        () ->
            client
                .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
                .inNamespace(namespace)
                .withName(name)
                .edit(
                    d -> {
                      @SuppressWarnings("unchecked")
                      Map<String, Object> spec =
                          (Map<String, Object>) d.getAdditionalProperties().get("spec");
                      spec.put("targetRevision", revision);
                      return d;
                    }));
  }

  static GenericKubernetesResource dbm(KubernetesClient client, String name) {
    String ns = "s".equals(name) ? "default" : "bench";
    return client
        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
        .inNamespace(ns)
        .withName(name)
        .get();
  }

  static boolean paused(KubernetesClient client) {
    return Boolean.TRUE.equals(
        client
            .apps()
            .deployments()
            .inNamespace("bench")
            .withName("app")
            .get()
            .getSpec()
            .getPaused());
  }

  static long writes(Map<String, Long> requests) {
    return requests.entrySet().stream()
        .filter(e -> isWrite(e.getKey()))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  static long reads(Map<String, Long> requests) {
    return requests.entrySet().stream()
        .filter(e -> e.getKey().startsWith("GET "))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  static boolean isWrite(String key) {
    return key.startsWith("POST ")
        || key.startsWith("PUT ")
        || key.startsWith("PATCH ")
        || key.startsWith("DELETE ");
  }

  static String list(Map<String, Long> requests, boolean writes) {
    StringBuilder out = new StringBuilder();
    requests.forEach(
        (k, v) -> {
          if (writes ? isWrite(k) : k.startsWith("GET ")) {
            out.append(out.length() == 0 ? "" : ", ").append(k).append(" x").append(v);
          }
        });
    return out.toString();
  }

  static double millis(Instant from, Instant to) {
    return Duration.between(from, to).toNanos() / 1e6;
  }

  static String fmt(double ms) {
    return String.format("%.1f", ms);
  }
}
