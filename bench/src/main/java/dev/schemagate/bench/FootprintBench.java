package dev.schemagate.bench;

import static dev.schemagate.sandbox.Demo.waitFor;

import dev.schemagate.sandbox.OperatorProcess;
import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * 7. What Deployments that no DatabaseMigration gates cost the operator: {@code gated}
 * DatabaseMigrations across 100 namespaces, each gating a Deployment, with and without {@code
 * unrelated} other Deployments beside them; every Deployment with a realistic pod template (two
 * containers, their environment, probes, resources and volumes: about 4 KiB of JSON). Today's build
 * (-Dbench.baseline=DIR) and this one take turns, round after round; after all are Ready: the
 * operator's RSS, its peak RSS, and its heap after a full GC.
 */
final class FootprintBench {
  private static final int NAMESPACES = 100;

  record Build(String label, Path app) {}

  /**
   * One run: seconds until all Ready; RSS, peak RSS and the part of RSS in the Java heap (MiB); the
   * heap after a full GC (MiB).
   */
  record Figures(double seconds, double rss, double peak, double heapRss, double heap) {
    static final Figures NONE =
        new Figures(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
  }

  private final ClusterBench cluster;
  private final Path home;
  private final Path results;

  FootprintBench(ClusterBench cluster, Path home, Path results) {
    this.cluster = cluster;
    this.home = home;
    this.results = results;
  }

  void run(int gated, int unrelated, int rounds) throws Exception {
    List<Build> builds = new ArrayList<>();
    String baseline = System.getProperty("bench.baseline");
    if (baseline != null) {
      builds.add(new Build("today's build", Path.of(baseline)));
    }
    builds.add(
        new Build(
            "this build",
            Path.of(
                System.getProperty(
                    "bench.candidate", home.resolve("operator/target/quarkus-app").toString()))));
    Map<String, List<Figures>> samples = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    String loadBefore = Machine.loadAverage();
    for (int r = 0; r < rounds; r++) {
      for (Build build : builds) {
        for (int extra : new int[] {0, unrelated}) {
          Figures f;
          try {
            f = once(build, gated, extra);
          } catch (IllegalStateException e) {
            System.out.println(build.label() + ", " + extra + " unrelated: " + e.getMessage());
            failures.put(key(build, extra), e.getMessage().lines().findFirst().orElse(""));
            f = Figures.NONE;
          }
          System.out.printf(
              "round %d, %s, %d unrelated: Ready in %.1f s, RSS %.0f MiB (%.0f MiB of it in the"
                  + " Java heap), peak %.0f MiB, heap after full GC %.1f MiB (load %s)%n",
              r + 1,
              build.label(),
              extra,
              f.seconds(),
              f.rss(),
              f.heapRss(),
              f.peak(),
              f.heap(),
              Machine.loadAverage());
          samples.computeIfAbsent(key(build, extra), k -> new ArrayList<>()).add(f);
        }
      }
    }
    Table table =
        new Table(
            cluster.title(
                "7. Unrelated Deployments: "
                    + gated
                    + " DatabaseMigrations each gating a Deployment, without and with "
                    + unrelated
                    + " Deployments no DatabaseMigration gates (median of "
                    + rounds
                    + " rounds, the builds taking turns)"));
    table.note(
        "Load average before / after: "
            + loadBefore
            + " / "
            + Machine.loadAverage()
            + ". JVM: "
            + String.join(" ", OperatorProcess.jvmOptions()));
    for (Build build : builds) {
      Figures without = median(samples.get(key(build, 0)));
      Figures with = median(samples.get(key(build, unrelated)));
      double rssGrowth = with.rss() / without.rss() - 1;
      double heapGrowth = with.heap() / without.heap() - 1;
      table
          .row(
              build.label() + ": all Ready, without / with",
              String.format("%.1f / %.1f s", without.seconds(), with.seconds()))
          .row(
              build.label() + ": RSS after all Ready, without / with",
              String.format(
                  "%.0f / %.0f MiB (%+.0f%%)", without.rss(), with.rss(), 100 * rssGrowth),
              "within 10%",
              Table.met(Math.abs(rssGrowth) <= 0.10))
          .row(
              build.label() + ": of that RSS, in the Java heap / outside it, without / with",
              String.format(
                  "%.0f / %.0f MiB, %.0f / %.0f MiB (%+.0f%% outside the heap)",
                  without.heapRss(),
                  without.rss() - without.heapRss(),
                  with.heapRss(),
                  with.rss() - with.heapRss(),
                  100 * ((with.rss() - with.heapRss()) / (without.rss() - without.heapRss()) - 1)))
          .row(
              build.label() + ": peak RSS (VmHWM), without / with",
              String.format("%.0f / %.0f MiB", without.peak(), with.peak()))
          .row(
              build.label() + ": heap after a full GC, without / with",
              String.format(
                  "%.1f / %.1f MiB (%+.0f%%)", without.heap(), with.heap(), 100 * heapGrowth),
              "within 10%",
              Table.met(Math.abs(heapGrowth) <= 0.10));
    }
    failures.forEach((k, why) -> table.note("Failed at least once: " + k + ": " + why));
    table.print(results, cluster.file("7-unrelated.md"));
  }

  private static String lastLines(String log) {
    List<String> lines = log.lines().filter(l -> !l.isBlank()).toList();
    return String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
  }

  private static String key(Build build, int unrelated) {
    return build.label() + "/" + unrelated;
  }

  private static Figures median(List<Figures> all) {
    List<Figures> list = all.stream().filter(f -> !Double.isNaN(f.rss())).toList();
    if (list.isEmpty()) {
      return Figures.NONE;
    }
    return new Figures(
        Stats.of(list.stream().map(Figures::seconds).toList()).median(),
        Stats.of(list.stream().map(Figures::rss).toList()).median(),
        Stats.of(list.stream().map(Figures::peak).toList()).median(),
        Stats.of(list.stream().map(Figures::heapRss).toList()).median(),
        Stats.of(list.stream().map(Figures::heap).toList()).median());
  }

  private Figures once(Build build, int gated, int unrelated) throws Exception {
    try (Sandbox sandbox = cluster.sandbox("unrelated", Duration.ZERO)) {
      KubernetesClient client = sandbox.client();
      if (cluster.real()) {
        // the operator runs as a process here, not from its chart: the CRD the chart carries
        try (var crd =
            Files.newInputStream(
                home.resolve("charts/schemagate/crds/databasemigrations.schemagate.dev-v1.yml"))) {
          client.load(crd).create();
        }
        waitFor(
            "the CRD is served",
            Duration.ofSeconds(30),
            () -> {
              try {
                client
                    .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
                    .inAnyNamespace()
                    .list();
                return true;
              } catch (RuntimeException notYet) {
                return false;
              }
            });
      }
      for (int n = 0; n < NAMESPACES; n++) {
        sandbox.namespace("ns-" + n);
      }
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<?>> created = new ArrayList<>();
      for (int i = 0; i < gated + unrelated; i++) {
        String ns = "ns-" + (i % NAMESPACES);
        String name = i < gated ? "app-" + i : "other-" + i;
        created.add(
            pool.submit(
                () ->
                    client
                        .apps()
                        .deployments()
                        .inNamespace(ns)
                        .resource(app(ns, name, cluster.real() ? 0 : 1))
                        .create()));
      }
      for (Future<?> f : created) {
        f.get();
      }
      cluster.awaitDeploymentsSettled(client, gated + unrelated);
      OperatorProcess operator =
          new OperatorProcess(
              Path.of(System.getProperty("java.home"), "bin", "java"),
              OperatorProcess.jvmOptions(),
              build.app().resolve("quarkus-run.jar"),
              sandbox.kubeconfig,
              sandbox.work.resolve("operator.log"),
              Map.of());
      try {
        operator.launch();
        waitFor(
            "the operator started",
            Duration.ofMinutes(10),
            () -> {
              if (!operator.isAlive()) {
                throw new IllegalStateException(
                    "the operator exited: " + lastLines(operator.log()));
              }
              return operator.log().contains("started in");
            });
        long pid = operator.pid();
        AtomicInteger ready = ClusterBench.readyCounter(client, "r1");
        Instant start = Instant.now();
        for (int i = 0; i < gated; i++) {
          String ns = "ns-" + (i % NAMESPACES);
          int k = i;
          pool.submit(
              () ->
                  client
                      .resource(ClusterBench.migration(ns, "m-" + k, "r1", "app-" + k))
                      .inNamespace(ns)
                      .create());
        }
        pool.shutdown();
        pool.awaitTermination(5, TimeUnit.MINUTES);
        waitFor(
            "all Ready",
            Duration.ofMinutes(15),
            () -> {
              if (!operator.isAlive()) {
                throw new IllegalStateException(
                    "the operator exited: " + lastLines(operator.log()));
              }
              return ready.get() >= gated;
            });
        double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
        Thread.sleep(5000);
        double heap =
            Machine.heapAfterFullGcMiB(
                pid, home.resolve("bench/target/unrelated-histogram-" + unrelated + ".txt"));
        // native memory, when the operator's JVM tracks it (-XX:NativeMemoryTracking=summary)
        Files.writeString(
            home.resolve("bench/target/unrelated-native-memory-" + unrelated + ".txt"),
            Machine.jcmd(pid, "VM.native_memory summary"));
        // where the RSS is held, mapping by mapping (the Java heap, the C library's arenas, thread
        // stacks, the archive and the jars)
        Path smaps = home.resolve("bench/target/unrelated-smaps-" + unrelated + ".txt");
        Files.copy(
            Path.of("/proc", Long.toString(pid), "smaps"),
            smaps,
            StandardCopyOption.REPLACE_EXISTING);
        return new Figures(
            seconds,
            Machine.statusMiB(pid, "VmRSS"),
            Machine.statusMiB(pid, "VmHWM"),
            Machine.heapRssMiB(pid, smaps),
            heap);
      } finally {
        operator.close();
      }
    }
  }

  /**
   * A Deployment as teams write them: two containers (the app and a proxy), each with its
   * environment, ports, probes, resources and mounts; labels and annotations; about 4 KiB of JSON.
   * On the real control plane with no replicas (the kubelet would run 11,000 pods): what the
   * operator caches is the Deployment object, and the embedded server runs no pods for it either.
   */
  static Deployment app(String ns, String name, int replicas) {
    List<EnvVar> env = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      env.add(
          new EnvVarBuilder()
              .withName("SETTING_" + i)
              .withValue("value-" + i + "-" + name + "-abcdefghijklmnopqrstuvwxyz")
              .build());
    }
    env.add(
        new EnvVarBuilder()
            .withName("POD_NAME")
            .withNewValueFrom()
            .withNewFieldRef()
            .withFieldPath("metadata.name")
            .endFieldRef()
            .endValueFrom()
            .build());
    Map<String, String> labels =
        Map.of(
            "app.kubernetes.io/name", name,
            "app.kubernetes.io/part-of", "shop",
            "app.kubernetes.io/version", "1.4.2",
            "team", "payments");
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .withLabels(labels)
        .addToAnnotations("deployment.kubernetes.io/revision", "3")
        .addToAnnotations("owner", "payments-team@example.com")
        .endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector()
        .addToMatchLabels("app.kubernetes.io/name", name)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .addToAnnotations("prometheus.io/scrape", "true")
        .addToAnnotations("prometheus.io/port", "9090")
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(name)
        .addToContainers(
            new ContainerBuilder()
                .withName("app")
                .withImage("registry.example.com/shop/" + name + ":1.4.2")
                .withArgs("--port=8080", "--metrics-port=9090", "--log-format=json")
                .withEnv(env)
                .addNewPort()
                .withName("http")
                .withContainerPort(8080)
                .endPort()
                .addNewPort()
                .withName("metrics")
                .withContainerPort(9090)
                .endPort()
                .withNewResources()
                .addToRequests("cpu", new Quantity("250m"))
                .addToRequests("memory", new Quantity("512Mi"))
                .addToLimits("memory", new Quantity("512Mi"))
                .endResources()
                .withNewReadinessProbe()
                .withNewHttpGet()
                .withPath("/ready")
                .withPort(new IntOrString("http"))
                .endHttpGet()
                .withPeriodSeconds(5)
                .endReadinessProbe()
                .withNewLivenessProbe()
                .withNewHttpGet()
                .withPath("/health")
                .withPort(new IntOrString("http"))
                .endHttpGet()
                .withInitialDelaySeconds(10)
                .endLivenessProbe()
                .addNewVolumeMount()
                .withName("config")
                .withMountPath("/etc/" + name)
                .endVolumeMount()
                .addNewVolumeMount()
                .withName("tmp")
                .withMountPath("/tmp")
                .endVolumeMount()
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withNewCapabilities()
                .addToDrop("ALL")
                .endCapabilities()
                .endSecurityContext()
                .build(),
            new ContainerBuilder()
                .withName("proxy")
                .withImage("registry.example.com/platform/proxy:2.7.0")
                .withArgs("--upstream=127.0.0.1:8080", "--listen=:8443", "--tls-dir=/etc/tls")
                .withEnv(env.subList(0, 6))
                .addNewPort()
                .withName("https")
                .withContainerPort(8443)
                .endPort()
                .withNewResources()
                .addToRequests("cpu", new Quantity("50m"))
                .addToRequests("memory", new Quantity("64Mi"))
                .addToLimits("memory", new Quantity("64Mi"))
                .endResources()
                .addNewVolumeMount()
                .withName("tls")
                .withMountPath("/etc/tls")
                .withReadOnly(true)
                .endVolumeMount()
                .build())
        .addNewVolume()
        .withName("config")
        .withNewConfigMap()
        .withName(name + "-config")
        .endConfigMap()
        .endVolume()
        .addNewVolume()
        .withName("tls")
        .withNewSecret()
        .withSecretName(name + "-tls")
        .endSecret()
        .endVolume()
        .addNewVolume()
        .withName("tmp")
        .withNewEmptyDir()
        .endEmptyDir()
        .endVolume()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }
}
