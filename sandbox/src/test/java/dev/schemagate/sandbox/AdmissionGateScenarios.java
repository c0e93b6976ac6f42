package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.schemagate.sandbox.cluster.ContainerEvents;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The admission gate on the real control plane, the same scenarios for each way of holding pods at
 * admission (the chart's MutatingAdmissionPolicy, the operator's webhook): an app whose pods name
 * the DatabaseMigration (label schemagate.dev/migration) and the revision they need (annotation
 * schemagate.dev/requires-revision) never runs a process of a new template before its revision is
 * in place, whatever the order the two reach the API server in. The migrations are simulated (they
 * run 300 ms and report the target): what is checked is the order, from the kubelet's record of
 * every process it started and stopped.
 */
abstract class AdmissionGateScenarios {
  static final String MIGRATIONS = "e2e/gate-migrations:1";
  static final String FAILING = "e2e/gate-migrations:broken";
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\","
          + "\"toRevision\":\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":300}";
  static final int REPETITIONS = Integer.getInteger("schemagate.e2e.raceRepetitions", 20);
  E2e world;

  abstract Sandbox sandbox();

  /** Stops what reconciles (and, for the policy, everything of the operator). */
  abstract void stopOperator() throws Exception;

  abstract void startOperator() throws Exception;

  @BeforeEach
  void world() throws Exception {
    world = new E2e(sandbox());
    sandbox().simulatedImage(MIGRATIONS, Duration.ofMillis(300), RESULT, 0);
    sandbox().simulatedImage(FAILING, Duration.ofMillis(300), "", 4);
    apply(migration("r1", MIGRATIONS), app(1, 2));
    awaitReadyAt("r1");
    awaitRolledOut(1);
  }

  @Test
  void noProcessOfANewTemplateStartsBeforeItsMigrationFinishedInEitherOrder() throws Exception {
    for (int i = 2; i < 2 + REPETITIONS; i++) {
      String target = "r" + i;
      if (i % 2 == 0) {
        apply(migration(target, MIGRATIONS), app(i, 2));
      } else {
        apply(app(i, 2), migration(target, MIGRATIONS));
      }
      awaitReadyAt(target);
      awaitRolledOut(i);
      assertStartedOnlyAfterItsMigration(i);
    }
  }

  @Test
  void aFailedMigrationKeepsNewPodsWaitingOldOnesServingAndScaleUpsRunAtOnce() throws Exception {
    apply(migration("r2", FAILING), app(2, 2));
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    eventually().until(() -> !waiting(2).isEmpty());
    Thread.sleep(2000);
    assertThat(starts(image(2))).as("no pod of the new template ran").isEmpty();
    assertThat(running(1)).as("the old pods keep serving").hasSize(2);
    assertThat((String) world.condition("orders", "RolloutHeld").get("message"))
        .contains(
            "at the scheduling gate", "revision r2 of DatabaseMigration orders is not in place");
    Set<String> waitingBefore =
        waiting(2).stream().map(p -> p.getMetadata().getUid()).collect(Collectors.toSet());

    scale(4);
    eventually().until(() -> running(1).size() > 2);
    assertThat(starts(image(2))).isEmpty();

    // the fix, a migration image that works, committed with the same target: its run reaches r2
    // and the same pods start, none made again. (A retry annotation would run the digest that
    // failed: a retry is for a fix made in the database, not for a tag that moved.)
    apply(migration("r2", MIGRATIONS));
    awaitReadyAt("r2");
    eventually().until(() -> waitingBefore.stream().allMatch(this::runs));
    assertStartedOnlyAfterItsMigration(2);
  }

  @Test
  void aRollbackOfTheTemplateStartsAtOnce() throws Exception {
    apply(migration("r2", MIGRATIONS), app(2, 2));
    awaitReadyAt("r2");
    awaitRolledOut(2);
    Instant undo = Instant.now();
    kubectl("rollout", "undo", "deployment/orders-api");
    awaitRolledOut(1);
    assertThat(
            world
                .client()
                .pods()
                .inNamespace(world.ns)
                .withLabel("app", "orders-api")
                .list()
                .getItems())
        .allSatisfy(
            p ->
                assertThat(p.getSpec().getSchedulingGates())
                    .as("admitted without waiting")
                    .isNullOrEmpty());
    assertThat(starts(image(1)).stream().filter(s -> s.at().isAfter(undo))).hasSize(2);
  }

  @Test
  void withTheOperatorStoppedPodsThatNeedNothingStartAndOthersWaitForIt() throws Exception {
    stopOperator();
    try {
      scale(3);
      eventually().until(() -> running(1).size() == 3);
      apply(migration("r2", MIGRATIONS), app(2, 3));
      eventually().until(() -> !waiting(2).isEmpty());
      Thread.sleep(3000);
      assertThat(starts(image(2))).isEmpty();
    } finally {
      startOperator();
    }
    awaitReadyAt("r2");
    awaitRolledOut(2);
    assertStartedOnlyAfterItsMigration(2);
  }

  @Test
  void resumingOrPausingTheDeploymentByHandChangesNothing() throws Exception {
    sandbox().simulatedImage(MIGRATIONS, Duration.ofSeconds(4), RESULT, 0);
    apply(migration("r2", MIGRATIONS), app(2, 2));
    eventually().until(() -> "Migrating".equals(world.phase("orders")));
    setPaused(true);
    setPaused(false);
    awaitReadyAt("r2");
    awaitRolledOut(2);
    assertStartedOnlyAfterItsMigration(2);
    sandbox().simulatedImage(MIGRATIONS, Duration.ofMillis(300), RESULT, 0);
  }

  /**
   * Issue 26, item 5, with the chart's default gate.admission.missingMigration=Hold: a template
   * that names a DatabaseMigration that does not exist (not created yet, while another exists; then
   * deleted after Ready, in a namespace left with none) has its pods admitted at the scheduling
   * gate on both paths, never refused nor run unchecked, told on the Deployment; they start once it
   * exists and is Ready. Before: the policy admitted the first ungated and refused the last; the
   * webhook held them, and nothing told it.
   */
  @Test
  void podsNamingAMissingMigrationWaitAtTheGateAreToldAndStartOnceItExists() throws Exception {
    String billing = "shop/billing-api:1";
    sandbox().idleImage(billing);
    apply(
        String.join(
            "\n",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata: {name: billing-api}",
            "spec:",
            "  replicas: 1",
            "  selector: {matchLabels: {app: billing-api}}",
            "  template:",
            "    metadata:",
            "      labels: {app: billing-api, schemagate.dev/migration: billing}",
            "    spec:",
            "      containers:",
            "      - {name: api, image: \"" + billing + "\"}",
            ""));
    eventually().until(() -> gated("billing-api").size() == 1);
    eventually()
        .until(
            () ->
                world.events().stream()
                    .anyMatch(
                        e ->
                            "MigrationNotFound".equals(e.getReason())
                                && "Deployment".equals(e.getInvolvedObject().getKind())
                                && "billing-api".equals(e.getInvolvedObject().getName())
                                && e.getMessage().contains("wait at the scheduling gate")));
    Thread.sleep(2000);
    assertThat(starts(billing)).as("no process of a pod whose migration is missing").isEmpty();

    apply(
        migration("r1", MIGRATIONS)
            .replace("name: orders", "name: billing")
            .replace("orders-api", "billing-api"));
    eventually()
        .until(
            () ->
                "Ready".equals(world.phase("billing"))
                    && gated("billing-api").isEmpty()
                    && !starts(billing).isEmpty());

    // deleted after Ready, and no DatabaseMigration left in the namespace: a new pod waits again
    kubectl("delete", "databasemigration", "billing", "orders", "--wait=true");
    world.client().apps().deployments().inNamespace(world.ns).withName("billing-api").scale(2);
    eventually().until(() -> gated("billing-api").size() == 1);
    assertThat(
            world
                .client()
                .pods()
                .inNamespace(world.ns)
                .withLabel("app", "billing-api")
                .list()
                .getItems())
        .as("one ran before the delete, one waits; none refused")
        .hasSize(2);
  }

  /**
   * Issue 26, item 2: only the operator, or a group the chart allows (gate.liftAllowedGroups), may
   * take the scheduling gate off a pod; when an allowed admin does it while the migration is not
   * Ready, the operator records it: a Warning Event naming the pod, and status.gateLiftedByOthers.
   * A user with only edit is refused by the gate-lift-guard policy.
   */
  @Test
  void aGateAnAllowedAdminLiftsWhileTheMigrationIsHeldIsRecorded() throws Exception {
    for (String user : List.of("alice", "dave")) {
      kubectl("create", "rolebinding", user, "--clusterrole=edit", "--user=" + user);
    }
    apply(migration("r2", FAILING), app(2, 2));
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    eventually().until(() -> !waiting(2).isEmpty());
    String pod = waiting(2).get(0).getMetadata().getName();
    eventually()
        .until(
            () -> {
              Object held = world.status("orders").get("heldPods");
              return held instanceof List<?> names && names.contains(pod);
            });
    String removeOurs =
        "[{\"op\":\"test\",\"path\":\"/spec/schedulingGates/0/name\","
            + "\"value\":\"schemagate.dev/migration\"},"
            + "{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"}]";
    try (KubernetesClient alice = as("alice");
        KubernetesClient dave = as("dave", E2e.BREAK_GLASS)) {
      var asAlice = alice.pods().inNamespace(world.ns).withName(pod);
      KubernetesClientException refused =
          catchThrowableOfType(
              KubernetesClientException.class,
              () -> asAlice.patch(PatchContext.of(PatchType.JSON), removeOurs));
      assertThat(refused).as("edit may not lift the gate").isNotNull();
      assertThat(refused.getCode()).isEqualTo(403);
      assertThat(refused.getStatus().getMessage())
          .contains("only the schemagate operator may remove the scheduling gate");
      Instant lifted = Instant.now();
      Pod ungated =
          dave.pods()
              .inNamespace(world.ns)
              .withName(pod)
              .patch(PatchContext.of(PatchType.JSON), removeOurs);
      assertThat(ungated.getSpec().getSchedulingGates()).isNullOrEmpty();
      eventually()
          .until(
              () ->
                  world.events().stream()
                      .anyMatch(
                          e ->
                              "GateLiftedByOthers".equals(e.getReason())
                                  && "Warning".equals(e.getType())
                                  && "DatabaseMigration".equals(e.getInvolvedObject().getKind())
                                  && e.getMessage().contains("pod " + pod)
                                  && e.getMessage()
                                      .contains(
                                          "removed by someone other than the operator while the"
                                              + " migration was not Ready")
                                  && e.getMessage()
                                      .contains(
                                          "revision r2 of DatabaseMigration orders is not in"
                                              + " place")));
      @SuppressWarnings("unchecked")
      Map<String, Object> seen =
          (Map<String, Object>) world.status("orders").get("gateLiftedByOthers");
      assertThat(seen).as("status.gateLiftedByOthers").isNotNull();
      assertThat(seen.get("pod")).isEqualTo(pod);
      assertThat(Instant.parse((String) seen.get("at")))
          .isAfterOrEqualTo(lifted.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
      assertThat((String) seen.get("waitedFor")).contains("revision r2");
      System.out.printf(
          "gate of %s lifted by an allowed admin: told %d ms after the lift%n",
          pod,
          java.time.Duration.between(lifted, Instant.parse((String) seen.get("at"))).toMillis());
    }
  }

  /** A client that acts as this user (as kubectl --as does), in these groups. */
  KubernetesClient as(String user, String... groups) throws Exception {
    Config config = Config.fromKubeconfig(null, Files.readString(sandbox().kubeconfig), null);
    config.setImpersonateUsername(user);
    String[] all = new String[groups.length + 1];
    System.arraycopy(groups, 0, all, 0, groups.length);
    all[groups.length] = "system:authenticated";
    config.setImpersonateGroups(all);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  List<Pod> gated(String app) {
    return world
        .client()
        .pods()
        .inNamespace(world.ns)
        .withLabel("app", app)
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(
            p ->
                p.getSpec().getSchedulingGates() != null
                    && p.getSpec().getSchedulingGates().stream()
                        .anyMatch(g -> "schemagate.dev/migration".equals(g.getName())))
        .toList();
  }

  // --- what the scenarios apply: the DatabaseMigration and the app, as a GitOps commit would

  String migration(String target, String image) {
    return String.join(
        "\n",
        "apiVersion: schemagate.dev/v1alpha1",
        "kind: DatabaseMigration",
        "metadata: {name: orders}",
        "spec:",
        "  image: " + image,
        "  targetRevision: " + target,
        "  gate: {deployments: [orders-api]}",
        "");
  }

  /** The app's version {@code v}: image shop/orders-api:v, needing revision rv. */
  String app(int v, int replicas) throws Exception {
    sandbox().idleImage(image(v));
    return String.join(
        "\n",
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: orders-api}",
        "spec:",
        "  replicas: " + replicas,
        "  selector: {matchLabels: {app: orders-api}}",
        "  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
        "  template:",
        "    metadata:",
        "      labels: {app: orders-api, schemagate.dev/migration: orders}",
        "      annotations: {schemagate.dev/requires-revision: r" + v + "}",
        "    spec:",
        "      containers:",
        "      - {name: api, image: \"" + image(v) + "\"}",
        "");
  }

  static String image(int v) {
    return "shop/orders-api:" + v;
  }

  /** One kubectl apply of both documents, in the order given. */
  void apply(String... documents) throws Exception {
    Path file = Files.createTempFile(sandbox().work, "apply", ".yaml");
    Files.writeString(file, String.join("---\n", documents));
    kubectl("apply", "-f", file.toString());
  }

  String kubectl(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                sandbox().real().kubectl().toString(),
                "--kubeconfig",
                sandbox().kubeconfig.toString(),
                "--namespace",
                world.ns));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
    return out;
  }

  void awaitReadyAt(String revision) {
    eventually()
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && revision.equals(world.status("orders").get("currentRevision")));
  }

  void awaitRolledOut(int v) {
    eventually()
        .until(() -> image(v).equals(sandbox().cluster.rolledOutImage(world.ns, "orders-api")));
  }

  void scale(int replicas) {
    world
        .client()
        .apps()
        .deployments()
        .inNamespace(world.ns)
        .withName("orders-api")
        .scale(replicas);
  }

  void setPaused(boolean paused) {
    world.editDeployment("orders-api", d -> d.getSpec().setPaused(paused));
  }

  List<Pod> pods(int v) {
    return world.livePods("orders-api", image(v));
  }

  List<Pod> waiting(int v) {
    return pods(v).stream()
        .filter(p -> p.getSpec().getSchedulingGates() != null)
        .filter(
            p ->
                p.getSpec().getSchedulingGates().stream()
                    .anyMatch(g -> "schemagate.dev/migration".equals(g.getName())))
        .toList();
  }

  List<Pod> running(int v) {
    return pods(v).stream().filter(p -> "Running".equals(p.getStatus().getPhase())).toList();
  }

  boolean runs(String uid) {
    return world.client().pods().inNamespace(world.ns).list().getItems().stream()
        .anyMatch(
            p ->
                uid.equals(p.getMetadata().getUid()) && "Running".equals(p.getStatus().getPhase()));
  }

  List<ContainerEvents.Start> starts(String image) {
    return sandbox().real().starts().stream()
        .filter(s -> s.namespace().equals(world.ns) && s.image().equals(image))
        .toList();
  }

  /**
   * Every process of the app's version {@code v} started after the migration to rv ended: after its
   * container exited (to the millisecond, from the kubelet) and not before the Job's completion.
   */
  void assertStartedOnlyAfterItsMigration(int v) {
    E2e.MigrationEnded migration = world.migrationEnded("orders", "r" + v);
    String job = migration.job();
    Instant migrated = migration.at();
    Instant completed =
        Instant.parse(
            world
                .client()
                .batch()
                .v1()
                .jobs()
                .inNamespace(world.ns)
                .withName(job)
                .get()
                .getStatus()
                .getCompletionTime());
    List<ContainerEvents.Start> started = starts(image(v));
    assertThat(started).as("processes of " + image(v)).isNotEmpty();
    assertThat(started)
        .allSatisfy(
            s -> {
              assertThat(s.at())
                  .as(s.pod() + " started after the migration's container ended")
                  .isAfter(migrated);
              assertThat(s.at())
                  .as(s.pod() + " started after the Job completed")
                  .isAfterOrEqualTo(completed);
            });
  }
}
