package dev.schemagate.bench;

import static dev.schemagate.sandbox.Demo.waitFor;
import static dev.schemagate.sandbox.Handlers.onChange;

import dev.schemagate.sandbox.Demo;
import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSchedulingGate;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The admission gate on the real control plane, for each path (the chart's MutatingAdmissionPolicy,
 * the operator's webhook): how soon the gate goes from every waiting pod once the database is at
 * the revision they need, and what admission adds to creating a pod.
 */
final class AdmissionBench {
  static final String IMAGE = "bench/gate-migrations:1";
  static final String APP = "bench/app:1";
  static final String NS = "bench";
  static final int WAITING_PODS = 5;

  private final Path home;
  private final Path results;

  AdmissionBench(Path home, Path results) {
    this.home = home;
    this.results = results;
  }

  void run(int runs, int creations) throws Exception {
    Table table =
        new Table(
            "6. The admission gate (real control plane): gate lifted after the migration, and the"
                + " cost of admission");
    for (String via : List.of("policy", "webhook")) {
      Path work = home.resolve("bench/target/admission-" + via);
      Demo.clean(work);
      try (Sandbox sandbox =
          Sandbox.start(home, work, null, Sandbox.Kind.REAL)
              .operatorValue("gate.admission.via", via)) {
        sandbox.simulatedImage(IMAGE, Duration.ofMillis(50), ClusterBench.RESULT, 0);
        sandbox.idleImage(APP);
        sandbox.namespace(NS);
        sandbox.startOperator();
        Stats lifted = lift(sandbox, runs);
        table.row(
            via
                + ": Job Complete -> gate lifted from all "
                + WAITING_PODS
                + " waiting pods, p50 / p99 / max",
            ClusterBench.fmt(lifted.median())
                + " / "
                + ClusterBench.fmt(lifted.p(99))
                + " / "
                + ClusterBench.fmt(lifted.max())
                + " ms ("
                + lifted.count()
                + " runs)",
            "p99 < 100 ms",
            Table.met(lifted.p(99) < 100));
        Map<Boolean, Stats> create = creation(sandbox, creations);
        double added = create.get(true).p(99) - create.get(false).p(99);
        table.row(
            via + ": pod creation, p50 / p99, named a DatabaseMigration vs not",
            ClusterBench.fmt(create.get(true).median())
                + " / "
                + ClusterBench.fmt(create.get(true).p(99))
                + " ms vs "
                + ClusterBench.fmt(create.get(false).median())
                + " / "
                + ClusterBench.fmt(create.get(false).p(99))
                + " ms (p99 added: "
                + ClusterBench.fmt(added)
                + " ms)",
            "",
            "");
        if ("webhook".equals(via)) {
          long before = webhookCalls(sandbox);
          createPods(sandbox, creations, false);
          long unlabelled = webhookCalls(sandbox) - before;
          table.row(
              "webhook: calls for " + creations + " pods that name no DatabaseMigration",
              Long.toString(unlabelled),
              "0",
              Table.met(unlabelled == 0));
        }
      }
    }
    table.print(results, "6-admission.md");
  }

  /**
   * Each run: pods wait for the next revision; the time from the Job's Complete to the last gate
   * lifted.
   */
  private Stats lift(Sandbox sandbox, int runs) throws Exception {
    KubernetesClient client = sandbox.client();
    Map<String, Instant> completed = new ConcurrentHashMap<>();
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(NS)
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
    Map<String, Instant> liftedAt = new ConcurrentHashMap<>();
    client
        .pods()
        .inNamespace(NS)
        .withLabel("schemagate.dev/migration", "lat")
        .inform(
            onChange(
                pod -> {
                  boolean gated =
                      pod.getSpec().getSchedulingGates() != null
                          && !pod.getSpec().getSchedulingGates().isEmpty();
                  if (!gated) {
                    liftedAt.putIfAbsent(pod.getMetadata().getName(), Instant.now());
                  }
                }));
    client.resource(migration("r0")).inNamespace(NS).create();
    waitFor("the first run", Duration.ofSeconds(90), () -> ready(client, "r0"));
    List<Double> took = new ArrayList<>();
    for (int i = 1; i <= runs; i++) {
      String revision = "r" + i;
      List<String> names = new ArrayList<>();
      for (int p = 0; p < WAITING_PODS; p++) {
        Pod pod = client.pods().inNamespace(NS).resource(pod("lat", revision)).create();
        names.add(pod.getMetadata().getName());
      }
      waitFor(
          "the pods wait",
          Duration.ofSeconds(30),
          () -> names.stream().allMatch(n -> gated(client, n)));
      ClusterBench.bumpTarget(client, NS, "lat", revision);
      waitFor(
          "run " + i,
          Duration.ofSeconds(60),
          () -> ready(client, revision) && names.stream().allMatch(liftedAt::containsKey));
      String job = job(client, revision);
      Instant done = completed.get(job);
      Instant last = names.stream().map(liftedAt::get).max(Instant::compareTo).orElseThrow();
      took.add(Duration.between(done, last).toNanos() / 1e6);
      client
          .pods()
          .inNamespace(NS)
          .withLabel("schemagate.dev/migration", "lat")
          .withGracePeriod(0)
          .delete();
    }
    return Stats.of(took);
  }

  /**
   * Creation round trips of pods whose requirement is met (admitted ungated), and of pods that name
   * nothing.
   */
  private Map<Boolean, Stats> creation(Sandbox sandbox, int count) {
    List<Double> labelled = createPods(sandbox, count, true);
    List<Double> plain = createPods(sandbox, count, false);
    return Map.of(true, Stats.of(labelled), false, Stats.of(plain));
  }

  private List<Double> createPods(Sandbox sandbox, int count, boolean labelled) {
    KubernetesClient client = sandbox.client();
    List<Double> took = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Pod pod =
          labelled
              ? pod("lat", null)
              : new PodBuilder(pod("lat", null))
                  .editMetadata()
                  .withLabels(Map.of("app", "plain"))
                  .endMetadata()
                  .build();
      pod.getSpec().setSchedulingGates(List.of(new PodSchedulingGate("bench.example/keep")));
      long t = System.nanoTime();
      client.pods().inNamespace(NS).resource(pod).create();
      took.add((System.nanoTime() - t) / 1e6);
    }
    client.pods().inNamespace(NS).withLabel("bench-creation", "true").withGracePeriod(0).delete();
    return took;
  }

  private static long webhookCalls(Sandbox sandbox) {
    String metrics = sandbox.client().raw("/metrics");
    long calls = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith("apiserver_admission_webhook_admission_duration_seconds_count")
          && line.contains("rollout-gate.schemagate.dev")) {
        calls += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return calls;
  }

  static Pod pod(String migration, String requires) {
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withGenerateName("lat-")
            .withNamespace(NS)
            .addToLabels("schemagate.dev/migration", migration)
            .addToLabels("bench-creation", "true")
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage(APP)
            .endContainer()
            .endSpec();
    if (requires != null) {
      pod.editMetadata()
          .addToAnnotations("schemagate.dev/requires-revision", requires)
          .endMetadata();
    }
    return pod.build();
  }

  static GenericKubernetesResource migration(String target) {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName("lat").withNamespace(NS).build());
    Map<String, Object> spec = new HashMap<>();
    spec.put("image", IMAGE);
    spec.put("targetRevision", target);
    spec.put("historyLimit", 5);
    dbm.setAdditionalProperty("spec", spec);
    return dbm;
  }

  private static boolean gated(KubernetesClient client, String name) {
    Pod pod = client.pods().inNamespace(NS).withName(name).get();
    return pod != null
        && pod.getSpec().getSchedulingGates() != null
        && !pod.getSpec().getSchedulingGates().isEmpty();
  }

  private static boolean ready(KubernetesClient client, String revision) {
    GenericKubernetesResource dbm =
        client
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(NS)
            .withName("lat")
            .get();
    return dbm != null && Demo.isReady(dbm, revision);
  }

  @SuppressWarnings("unchecked")
  private static String job(KubernetesClient client, String revision) {
    GenericKubernetesResource dbm =
        client
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(NS)
            .withName("lat")
            .get();
    List<Map<String, Object>> history =
        (List<Map<String, Object>>)
            ((Map<String, Object>) dbm.getAdditionalProperties().get("status")).get("history");
    return history.stream()
        .filter(h -> revision.equals(h.get("targetRevision")))
        .map(h -> String.valueOf(h.get("job")))
        .findFirst()
        .orElseThrow();
  }
}
