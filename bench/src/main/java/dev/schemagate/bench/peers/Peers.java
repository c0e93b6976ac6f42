package dev.schemagate.bench.peers;

import dev.schemagate.bench.Machine;
import dev.schemagate.bench.Stats;
import dev.schemagate.sandbox.Demo;
import dev.schemagate.sandbox.Sandbox;
import dev.schemagate.sandbox.cluster.ContainerEvents;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * bash scripts/bench peers: schemagate beside the other ways of migrating before a rollout, on the
 * sandbox's real cluster (control plane, a node with containerd, PostgreSQL), the same migration
 * sets against the same server, the peers taking turns round by round in one run so that their
 * ratios hold on a busy machine. Each round has a fresh database and namespace. Prints one table
 * and writes the raw samples under bench/results/peers/.
 */
public final class Peers {
  static final String APP = "app";
  static final String APP_OLD = "bench/app:1";
  static final String APP_NEW = "bench/app:2";

  private final Path home;
  private final Path results;
  private final List<Peer> peers;
  private final List<Sample> samples = new ArrayList<>();
  private final Map<String, Map<Integer, AtRest>> atRest = new LinkedHashMap<>();
  private final java.util.Set<String> controllers = new java.util.HashSet<>();
  private int made;
  private NodeCgroups.Cgroup kubepods;

  /** What one round of one peer cost. */
  record Sample(
      String peer,
      String set,
      int round,
      Round observed,
      double controllerCpu,
      double podsCpu,
      double processCpu,
      Map<String, Long> requests,
      long sessions) {
    double migratedMs() {
      return Duration.between(observed.applied(), observed.migrated()).toNanos() / 1e6;
    }

    double servingMs() {
      return observed.serving() == null
          ? Double.NaN
          : Duration.between(observed.applied(), observed.serving()).toNanos() / 1e6;
    }
  }

  /** A controller at rest with some resources: its pod's RSS and its CPU over a while. */
  record AtRest(double rssMiB, double cpuPercent, double seconds) {}

  public Peers(Path home, Path results, List<Peer> peers) {
    this.home = home;
    this.results = results.resolve("peers");
    this.peers = peers;
  }

  /** The peers measured by default, schemagate's first. */
  public static List<Peer> defaults() {
    return List.of(
        SchemagatePeer.admission(),
        SchemagatePeer.pause(),
        new PlainJobPeer(),
        FloorPeer.runnerProcess(),
        FloorPeer.podStart());
  }

  public void run(int rounds, int generated, List<Integer> restCounts, Duration restFor)
      throws Exception {
    Path work = home.resolve("bench/target/peers");
    Demo.clean(work);
    String loadBefore = Machine.loadAverage();
    Instant started = Instant.now();
    try (Sandbox sandbox = Sandbox.start(home, work, null, Sandbox.Kind.REAL)) {
      List<MigrationSet> sets = MigrationSets.make(home, work.resolve("sets"), generated);
      kubepods = NodeCgroups.kubepods(clusterDnsPid(sandbox));
      sandbox.idleImage(APP_OLD);
      sandbox.idleImage(APP_NEW);
      for (Peer peer : peers) {
        peer.install(sandbox);
      }
      for (MigrationSet set : sets) {
        MigrationSets.runnerImage(sandbox, set);
        // a round of each not counted: the images pulled onto the node, the JIT of the operator
        // warm
        for (Peer peer : peers) {
          one(sandbox, peer, set, -1);
        }
        for (int r = 0; r < rounds; r++) {
          for (int i = 0; i < peers.size(); i++) {
            samples.add(one(sandbox, peers.get((i + r) % peers.size()), set, r));
          }
          System.out.println(set.name() + ": round " + (r + 1) + " of " + rounds + " done");
        }
      }
      String loadRounds = Machine.loadAverage();
      // the rounds' figures kept before the controller's at rest are measured
      print(sets, rounds, started, loadBefore, loadRounds, restCounts);
      for (Peer peer : peers) {
        rest(sandbox, peer, restCounts, restFor);
      }
      print(sets, rounds, started, loadBefore, loadRounds, restCounts);
    }
  }

  private Sample one(Sandbox sandbox, Peer peer, MigrationSet set, int round) throws Exception {
    int n = made++;
    String ns = "peers-" + n;
    String db = "peers_" + n;
    sandbox.namespace(ns);
    sandbox.database.create(db);
    if (peer.rollsOut()) {
      sandbox.client().apps().deployments().inNamespace(ns).resource(app()).create();
      try (Watch<?> old = Rollout.serving(sandbox, ns, APP, APP_OLD)) {
        old.await(Duration.ofMinutes(3));
      }
    }
    Optional<Long> controller = peer.controllerPod(sandbox).map(p -> podPid(sandbox, p));
    long mark = Audit.mark(sandbox.real());
    double controllerBefore =
        controller.isPresent() ? NodeCgroups.podCpuSeconds(controller.get()) : 0;
    double podsBefore = kubepods.cpuSeconds();
    Round observed = peer.round(sandbox, ns, db, set, APP, APP_NEW);
    Thread.sleep(1000); // what the controller does right after (its status, Events)
    double controllerCpu =
        controller.isPresent() ? NodeCgroups.podCpuSeconds(controller.get()) - controllerBefore : 0;
    double podsCpu = kubepods.cpuSeconds() - podsBefore;
    Map<String, Long> requests =
        peer.apiUser().isPresent()
            ? Audit.requests(sandbox.real(), mark, peer.apiUser().get())
            : Map.of();
    long sessions = sessions(sandbox, db);
    sandbox.client().namespaces().withName(ns).delete();
    sandbox.database.drop(db);
    Sample sample =
        new Sample(
            peer.name(),
            set.name(),
            round,
            observed,
            controllerCpu,
            podsCpu,
            peer.processCpuSeconds(),
            requests,
            sessions);
    System.out.printf(
        "%s, %s, round %d: migrated %.0f ms, serving %.0f ms, controller %.2f s, pods %.2f s,"
            + " process %.2f s, %d requests, %d sessions%n",
        peer.name(),
        set.name(),
        round,
        sample.migratedMs(),
        sample.servingMs(),
        controllerCpu,
        podsCpu,
        sample.processCpu(),
        Audit.total(requests),
        sessions);
    return sample;
  }

  /** The app before a round: 2 replicas of its old version. */
  private static io.fabric8.kubernetes.api.model.apps.Deployment app() {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(APP)
        .endMetadata()
        .withNewSpec()
        .withReplicas(2)
        .withNewSelector()
        .addToMatchLabels("app", APP)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", APP)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .withImage(APP_OLD)
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * Sessions PostgreSQL counted for the database (pg_stat_database.sessions: every connection
   * opened to it, closed ones included; the statistics collector's half-second lag has passed).
   */
  private static long sessions(Sandbox sandbox, String db) throws Exception {
    try (Connection c = sandbox.database.connect("postgres");
        PreparedStatement s =
            c.prepareStatement("SELECT sessions FROM pg_stat_database WHERE datname = ?")) {
      s.setString(1, db);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  /** The cluster DNS's process (a pod that runs as long as the node: to find its kubepods). */
  private static long clusterDnsPid(Sandbox sandbox) {
    return sandbox.real().starts().stream()
        .filter(s -> s.namespace().equals("kube-system"))
        .filter(s -> ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false))
        .map(ContainerEvents.Start::pid)
        .reduce((a, b) -> b)
        .orElseThrow(() -> new IllegalStateException("no running container on the node"));
  }

  /** A running container's process of the pod "namespace/name". */
  private static long podPid(Sandbox sandbox, String pod) {
    String[] p = pod.split("/", 2);
    return sandbox.real().starts().stream()
        .filter(s -> s.namespace().equals(p[0]) && s.pod().equals(p[1]))
        .filter(s -> ProcessHandle.of(s.pid()).map(ProcessHandle::isAlive).orElse(false))
        .map(ContainerEvents.Start::pid)
        .reduce((a, b) -> b)
        .orElseThrow(() -> new IllegalStateException("no running container in pod " + pod));
  }

  /**
   * The controller at rest with each count of resources (made cumulatively): its pod's RSS and CPU
   * over {@code restFor}, after 10 s to settle. A controller shared by two peers (schemagate's two
   * gates) is measured once.
   */
  private void rest(Sandbox sandbox, Peer peer, List<Integer> counts, Duration restFor)
      throws Exception {
    Optional<String> pod = peer.controllerPod(sandbox);
    if (pod.isEmpty() || !controllers.add(peer.apiUser().orElse(peer.name()))) {
      return;
    }
    Map<Integer, AtRest> figures = new LinkedHashMap<>();
    atRest.put(peer.name(), figures);
    int have = 0;
    for (int count : counts) {
      String ns = "rest-" + count;
      sandbox.namespace(ns);
      peer.rest(sandbox, ns, count - have);
      have = count;
      Thread.sleep(10_000);
      long pid = podPid(sandbox, peer.controllerPod(sandbox).orElseThrow());
      double before = NodeCgroups.podCpuSeconds(pid);
      Thread.sleep(restFor.toMillis());
      double cpu = NodeCgroups.podCpuSeconds(pid) - before;
      figures.put(
          count,
          new AtRest(
              NodeCgroups.podRssMiB(pid), 100 * cpu / restFor.toSeconds(), restFor.toSeconds()));
      System.out.println(peer.name() + " at rest with " + count + ": " + figures.get(count));
    }
  }

  private void print(
      List<MigrationSet> sets,
      int rounds,
      Instant started,
      String loadBefore,
      String loadRounds,
      List<Integer> restCounts)
      throws Exception {
    StringBuilder out = new StringBuilder();
    out.append("### Peers: schemagate beside a plain migration Job and the floor (real cluster, ")
        .append(rounds)
        .append(" rounds each, taking turns)\n\n")
        .append(Machine.describe())
        .append("\n\nLoad average before / after the rounds / at the end: ")
        .append(loadBefore)
        .append(" / ")
        .append(loadRounds)
        .append(" / ")
        .append(Machine.loadAverage())
        .append(". Started ")
        .append(DateTimeFormatter.ISO_INSTANT.format(started.atOffset(ZoneOffset.UTC)))
        .append(".\n\n")
        .append(
            "| peer | set | apply -> migrated p50 / p99 (ms) | apply -> serving p50 / p99 (ms) |"
                + " API requests per lifecycle (all / mutating) | CPU s per migration: controller"
                + " pod / all pods / processes | DB sessions |\n")
        .append("| --- | --- | --- | --- | --- | --- | --- |\n");
    for (MigrationSet set : sets) {
      for (Peer peer : peers) {
        List<Sample> mine =
            samples.stream()
                .filter(s -> s.peer().equals(peer.name()) && s.set().equals(set.name()))
                .toList();
        if (mine.isEmpty()) {
          continue;
        }
        Stats migrated = stats(mine, Sample::migratedMs);
        Stats serving = stats(mine, Sample::servingMs);
        boolean counted = peer.apiUser().isPresent();
        out.append("| ")
            .append(peer.name())
            .append(" | ")
            .append(set.name())
            .append(" (")
            .append(set.count())
            .append(") | ")
            .append(String.format("%.0f / %.0f", migrated.median(), migrated.p(99)))
            .append(" | ")
            .append(
                peer.rollsOut()
                    ? String.format("%.0f / %.0f", serving.median(), serving.p(99))
                    : "-")
            .append(" | ")
            .append(
                counted
                    ? String.format(
                        "%.0f / %.0f",
                        stats(mine, s -> Audit.total(s.requests())).median(),
                        stats(mine, s -> Audit.writes(s.requests())).median())
                    : "-")
            .append(" | ")
            .append(
                String.format(
                    "%.2f / %.2f / %.2f",
                    stats(mine, Sample::controllerCpu).median(),
                    stats(mine, Sample::podsCpu).median(),
                    stats(mine, Sample::processCpu).median()))
            .append(" | ")
            .append(String.format("%.0f", stats(mine, s -> s.sessions()).median()))
            .append(" |\n");
      }
    }
    out.append("\nMedians of the rounds but the p99s. The requests of one lifecycle, by kind")
        .append(" (the first counted round):\n\n");
    for (Peer peer : peers) {
      samples.stream()
          .filter(s -> s.peer().equals(peer.name()) && !s.requests().isEmpty())
          .findFirst()
          .ifPresent(
              s ->
                  out.append("- ")
                      .append(peer.name())
                      .append(": ")
                      .append(s.requests())
                      .append('\n'));
    }
    out.append("\n| controller at rest | ");
    for (int count : restCounts) {
      out.append(count).append(" resources: RSS (MiB) / CPU (% of a core) | ");
    }
    out.append("\n| --- |").append(" --- |".repeat(restCounts.size())).append('\n');
    atRest.forEach(
        (key, figures) -> {
          out.append("| ").append(key).append(" | ");
          for (int count : restCounts) {
            AtRest a = figures.get(count);
            out.append(
                    a == null
                        ? "-"
                        : String.format(
                            "%.0f / %.2f (%.0f s)", a.rssMiB(), a.cpuPercent(), a.seconds()))
                .append(" | ");
          }
          out.append('\n');
        });
    String table = out.toString();
    System.out.println(table);
    Files.createDirectories(results);
    Files.writeString(results.resolve("peers.md"), table);
    StringBuilder raw =
        new StringBuilder(
            "peer\tset\tround\tapplied\tmigrated_ms\tserving_ms\tcontroller_cpu_s\tpods_cpu_s\tprocess_cpu_s\trequests\tsessions\n");
    for (Sample s : samples) {
      raw.append(
              String.join(
                  "\t",
                  s.peer(),
                  s.set(),
                  Integer.toString(s.round()),
                  s.observed().applied().toString(),
                  String.format("%.1f", s.migratedMs()),
                  String.format("%.1f", s.servingMs()),
                  String.format("%.3f", s.controllerCpu()),
                  String.format("%.3f", s.podsCpu()),
                  String.format("%.3f", s.processCpu()),
                  s.requests().toString(),
                  Long.toString(s.sessions())))
          .append('\n');
    }
    Files.writeString(results.resolve("samples.tsv"), raw);
  }

  private static Stats stats(List<Sample> samples, ToDoubleFunction<Sample> f) {
    return Stats.of(samples.stream().map(s -> f.applyAsDouble(s)).toList());
  }
}
