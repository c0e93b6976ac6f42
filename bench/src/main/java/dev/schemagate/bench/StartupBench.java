package dev.schemagate.bench;

import static dev.schemagate.sandbox.Handlers.onChange;

import dev.schemagate.sandbox.OperatorProcess;
import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * 4. Start-up of the operator's process, side by side: today's build (-Dbench.baseline=DIR, a
 * quarkus-app folder of the build compared against), this build on Java 17 without and with a
 * class-data-sharing archive, and on Java 25 (-Dbench.java25=JAVA_HOME) without and with an
 * ahead-of-time cache. The archives are made by a training run (start, first reconcile, SIGTERM);
 * the variants then take turns, round after round, so that the machine's load falls on each alike.
 */
final class StartupBench {
  /** How a variant's archive is made and used. */
  enum Archive {
    NONE,
    /**
     * The runtime the image carries and the archive made with it at package time
     * (operator/src/main/docker/runtime.sh): APP/jre/bin/java with the options of APP/jvm.args, run
     * from APP, as the image runs from /deployments.
     */
    PACKAGED,
    /** A dynamic CDS archive from a training run (-XX:ArchiveClassesAtExit), Java 17+. */
    TRAINED_CDS,
    /** An AOT cache from a training run (-XX:AOTCacheOutput, JEP 483/514/515), Java 25. */
    TRAINED_AOT
  }

  record Variant(String label, Path java, List<String> jvm, Path app, Archive archive) {
    Path jar() {
      return archive == Archive.PACKAGED
          ? Path.of("quarkus-run.jar")
          : app.resolve("quarkus-run.jar");
    }

    Path archiveFile(Path work) {
      return switch (archive) {
        case NONE -> null;
        case PACKAGED -> {
          // jvm.args: the archive's option, with Java 25 beside the heap options it was made with
          String option =
              packagedOptions().stream()
                  .filter(
                      o -> o.startsWith("-XX:AOTCache=") || o.startsWith("-XX:SharedArchiveFile="))
                  .findFirst()
                  .orElseThrow(() -> new IllegalStateException(app + "/jvm.args names no archive"));
          yield app.resolve(option.substring(option.indexOf('=') + 1));
        }
        case TRAINED_CDS -> work.resolve(slug() + ".jsa");
        case TRAINED_AOT -> work.resolve(slug() + ".aot");
      };
    }

    List<String> packagedOptions() {
      try {
        return List.of(Files.readString(app.resolve("jvm.args")).trim().split("\\s+"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    String slug() {
      return label.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase();
    }

    List<String> options(Path work, boolean training) {
      List<String> out = new ArrayList<>(jvm);
      if (training) {
        // A leader that stops on SIGTERM never exits (the SDK calls System.exit from within the
        // shutdown, which waits for the leader elector it holds), so no archive would be written:
        // the training run is the prod configuration under another profile name, which has no
        // leader election (the only difference).
        out.add("-Dquarkus.profile=training");
      }
      Path file = archiveFile(work);
      switch (archive) {
        case NONE -> {}
        case PACKAGED -> out.addAll(packagedOptions());
        case TRAINED_CDS ->
            out.add((training ? "-XX:ArchiveClassesAtExit=" : "-XX:SharedArchiveFile=") + file);
        case TRAINED_AOT -> out.add((training ? "-XX:AOTCacheOutput=" : "-XX:AOTCache=") + file);
      }
      return out;
    }
  }

  /**
   * One start: milliseconds from process start to Quarkus started, to the Lease held and to the
   * first status written; the CPU seconds the process had used by then, per thread too; and the CPU
   * seconds this benchmark used meanwhile.
   */
  record Start(
      double started,
      double leader,
      double status,
      double cpu,
      double observerCpu,
      Map<String, Double> threads) {}

  private record StatusSeen(Instant at, double cpu, Map<String, Double> threads) {}

  private final ClusterBench cluster;
  private final Path home;
  private final Path results;

  StartupBench(ClusterBench cluster, Path home, Path results) {
    this.cluster = cluster;
    this.home = home;
    this.results = results;
  }

  List<Variant> variants() {
    List<Variant> out = new ArrayList<>();
    Path java17 = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> jvm = OperatorProcess.jvmOptions();
    Path app = home.resolve("operator/target/quarkus-app");
    String baseline = System.getProperty("bench.baseline");
    if (baseline != null) {
      out.add(new Variant("today's build, Java 17", java17, jvm, Path.of(baseline), Archive.NONE));
    }
    out.add(new Variant("this build, Java 17", java17, jvm, app, Archive.NONE));
    packaged("bench.runtime17", "the image's Java 17 runtime with its AppCDS archive", jvm)
        .forEach(out::add);
    out.add(
        new Variant(
            "this build, Java 17, AppCDS trained through a reconcile",
            java17,
            jvm,
            app,
            Archive.TRAINED_CDS));
    String java25 = System.getProperty("bench.java25");
    if (java25 != null) {
      Path j25 = Path.of(java25, "bin", "java");
      out.add(new Variant("this build, Java 25", j25, jvm, app, Archive.NONE));
      packaged("bench.runtime25", "the image's Java 25 runtime with its AOT cache", jvm)
          .forEach(out::add);
      out.add(
          new Variant(
              "this build, Java 25, AOT cache trained through a reconcile",
              j25,
              jvm,
              app,
              Archive.TRAINED_AOT));
    }
    return out;
  }

  /**
   * The quarkus-app folders with the image's runtime and archive (runtime.sh) that a property
   * names, separated by commas; beyond the first, each is labelled by its folder.
   */
  private static List<Variant> packaged(String property, String label, List<String> jvm) {
    String dirs = System.getProperty(property);
    List<Variant> out = new ArrayList<>();
    if (dirs == null) {
      return out;
    }
    for (String dir : dirs.split(",")) {
      Path app = Path.of(dir);
      out.add(
          new Variant(
              "this build, " + label + " (package time)" + (out.isEmpty() ? "" : ", " + app),
              app.resolve("jre/bin/java"),
              jvm,
              app,
              Archive.PACKAGED));
    }
    return out;
  }

  void run(int rounds) throws Exception {
    List<Variant> variants = variants();
    Path work = home.resolve("bench/target/startup-archives");
    Files.createDirectories(work);
    Map<Variant, List<Start>> samples = new LinkedHashMap<>();
    Map<Variant, Long> archiveBytes = new LinkedHashMap<>();
    for (Variant v : variants) {
      samples.put(v, new ArrayList<>());
      if (v.archive() == Archive.TRAINED_CDS || v.archive() == Archive.TRAINED_AOT) {
        Files.deleteIfExists(v.archiveFile(work));
        once(v, work, true);
        if (!Files.exists(v.archiveFile(work))) {
          throw new IllegalStateException("the training run of " + v.label() + " wrote no archive");
        }
      }
      Path file = v.archiveFile(work);
      archiveBytes.put(v, file == null ? 0L : Files.size(file));
    }
    String load = Machine.loadAverage();
    for (int r = 0; r < rounds; r++) {
      for (Variant v : variants) {
        samples.get(v).add(once(v, work, false));
      }
    }
    Table table =
        new Table(
            "4. Start-up of the operator's process ("
                + rounds
                + " starts of each, taking turns; median / max)");
    table.note("Load average before / after: " + load + " / " + Machine.loadAverage());
    for (Variant v : variants) {
      List<Start> s = samples.get(v);
      Stats started = Stats.of(s.stream().map(Start::started).toList());
      Stats leader = Stats.of(s.stream().map(Start::leader).toList());
      Stats reconciled = Stats.of(s.stream().map(Start::status).toList());
      Stats cpu = Stats.of(s.stream().map(a -> a.cpu() * 1000).toList());
      Stats observer = Stats.of(s.stream().map(a -> a.observerCpu() * 1000).toList());
      table.note(
          v.label()
              + ": the busiest threads by the first status, CPU seconds (last start): "
              + (s.get(s.size() - 1).threads().isEmpty()
                  ? "not read"
                  : Machine.busiest(Map.of(), s.get(s.size() - 1).threads(), 6)));
      String archive =
          archiveBytes.get(v) == 0
              ? ""
              : String.format(" (archive %.0f MiB)", archiveBytes.get(v) / 1048576.0);
      table.row(
          v.label()
              + archive
              + ": started / leader / first status written (CPU by then; the benchmark's)",
          ClusterBench.fmt(started.median())
              + " / "
              + ClusterBench.fmt(leader.median())
              + " / "
              + ClusterBench.fmt(reconciled.median())
              + " ms ("
              + ClusterBench.fmt(cpu.median())
              + " ms of CPU; max "
              + ClusterBench.fmt(reconciled.max())
              + "; the benchmark's own CPU meanwhile "
              + ClusterBench.fmt(observer.median())
              + " ms)",
          "first status <= 1 s",
          Table.met(reconciled.median() <= 1000));
    }
    table.print(results, "4-startup.md");
  }

  /**
   * The client's settings as a pod of the chart has them: the API server's address, its CA and the
   * credentials in the environment, no kubeconfig file (in a pod the client reads the service
   * account's token and CA, and parses no kubeconfig YAML: bench/README.md, start-up, says what
   * that parse costs; -Dbench.kubeconfig=true starts the operator with the sandbox's kubeconfig).
   */
  private static Map<String, String> asInAPod(Path kubeconfig) throws IOException {
    Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.put("KUBERNETES_MASTER", config.getMasterUrl());
    env.put("KUBERNETES_NAMESPACE", "default");
    put(env, "KUBERNETES_AUTH_TOKEN", config.getOauthToken());
    put(env, "KUBERNETES_CERTS_CA_DATA", config.getCaCertData());
    put(env, "KUBERNETES_CERTS_CLIENT_DATA", config.getClientCertData());
    put(env, "KUBERNETES_CERTS_CLIENT_KEY_DATA", config.getClientKeyData());
    return env;
  }

  private static void put(Map<String, String> env, String key, String value) {
    if (value != null) {
      env.put(key, value);
    }
  }

  /**
   * One start: process start to Quarkus started, to the Lease held, to the first status, the CPU
   * time (user and system, all threads) the process had used when its first status was seen, and
   * the CPU time this benchmark's own process used meanwhile (the API server of a mock sandbox
   * included). The Lease and the status are seen by watches, not by reading them again and again:
   * on two cores a reader asking every 5 ms took CPU from the start it measured (bench/README.md,
   * issue 15, fifth round).
   */
  private Start once(Variant v, Path work, boolean training) throws Exception {
    try (Sandbox sandbox = cluster.sandbox("startup", Duration.ZERO)) {
      KubernetesClient client = sandbox.client();
      client
          .resource(ClusterBench.migration("default", "s", "r1", "app"))
          .inNamespace("default")
          .create();
      AtomicReference<Instant> leading = new AtomicReference<>();
      // when the first status was seen, with the process's CPU then: published together
      AtomicReference<StatusSeen> statusSeen = new AtomicReference<>();
      AtomicLong operatorPid = new AtomicLong();
      try (SharedIndexInformer<Lease> leases =
              client
                  .leases()
                  .inNamespace("default")
                  .withName("schemagate-operator")
                  .inform(
                      onChange(
                          lease -> {
                            if (lease.getSpec() != null
                                && lease.getSpec().getHolderIdentity() != null) {
                              leading.compareAndSet(null, Instant.now());
                            }
                          }));
          SharedIndexInformer<GenericKubernetesResource> migrations =
              client
                  .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
                  .inNamespace("default")
                  .withName("s")
                  .inform(
                      onChange(
                          dbm -> {
                            if (dbm.getAdditionalProperties().get("status") != null
                                && statusSeen.get() == null) {
                              Instant at = Instant.now();
                              long pid = operatorPid.get();
                              statusSeen.set(new StatusSeen(at, cpu(pid), threads(pid)));
                            }
                          }))) {
        double ownCpuBefore = Machine.cpuSeconds(ProcessHandle.current().pid());
        Instant t0 = Instant.now();
        OperatorProcess operator =
            new OperatorProcess(
                    v.java(),
                    v.options(work, training),
                    v.jar(),
                    sandbox.kubeconfig,
                    sandbox.work.resolve("operator.log"),
                    Boolean.getBoolean("bench.kubeconfig")
                        ? Map.of()
                        : asInAPod(sandbox.kubeconfig))
                .in(v.archive() == Archive.PACKAGED ? v.app() : null)
                .launch();
        operatorPid.set(operator.pid());
        if (training) {
          leading.set(t0); // no leader election in training
        }
        try {
          Double ready = null;
          while (ready == null || statusSeen.get() == null || leading.get() == null) {
            double ms = millisSince(t0, Instant.now());
            if (ready == null && operator.log().contains("started in")) {
              ready = ms;
            }
            if (ms > 60_000 || !operator.isAlive()) {
              throw new IllegalStateException(
                  v.label() + ": the operator did not start: " + operator.log());
            }
            Thread.sleep(5);
          }
          double ownCpu = Machine.cpuSeconds(ProcessHandle.current().pid()) - ownCpuBefore;
          if (training) {
            // let the first reconcile's work end, so that its classes are in the archive; the
            // JVM writes the archive when it exits
            Thread.sleep(3000);
            operator.stop(Duration.ofMinutes(3));
          }
          return new Start(
              ready,
              millisSince(t0, leading.get()),
              millisSince(t0, statusSeen.get().at()),
              statusSeen.get().cpu(),
              ownCpu,
              statusSeen.get().threads());
        } finally {
          operator.stop(Duration.ofSeconds(10));
        }
      }
    }
  }

  private static double millisSince(Instant t0, Instant t) {
    return Duration.between(t0, t).toNanos() / 1e6;
  }

  private static double cpu(long pid) {
    try {
      return Machine.cpuSeconds(pid);
    } catch (IOException e) {
      return Double.NaN;
    }
  }

  private static Map<String, Double> threads(long pid) {
    try {
      return Machine.threadCpuSeconds(pid);
    } catch (IOException | RuntimeException e) {
      return Map.of(); // the process ended, or a thread's stat did not parse
    }
  }
}
