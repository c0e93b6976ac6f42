package dev.schemagate.operator.reconcile;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftSpec;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.OnDrift;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The drift check among the reconcile's steps, on caches held in memory at a fixed instant: when a
 * check Job is due and when not, and what a run does about a check under way and about a drift.
 */
class CheckDriftStepsTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  static final String PINNED =
      "registry.example.com/shop/orders-migrations@sha256:" + "ab".repeat(32);
  static final String FP_1 = "1111111111111111";
  static final String FP_2 = "2222222222222222";
  final FakeView cluster = new FakeView();

  ReconcileState reconcile(DatabaseMigration dbm) {
    return reconcile(dbm, MigrationPolicy.DEFAULTS);
  }

  /** The steps, in the order the reconciler runs them, under this policy. */
  ReconcileState reconcile(DatabaseMigration dbm, MigrationPolicy policy) {
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    new Pipeline(policy, JobDefaults.STANDARD, GateMode.Pause).run(state);
    return state;
  }

  /** At revision 3 with IMAGE_1, fingerprint FP_1 recorded {@code ago}, checked every 10m. */
  static DatabaseMigration atTarget(String image, Duration ago, OnDrift onDrift) {
    DatabaseMigration dbm = withUid(migration("shop", "orders", image, "3", "orders-api"));
    DriftSpec spec = new DriftSpec();
    spec.setInterval("10m");
    spec.setOnDrift(onDrift);
    dbm.getSpec().setDrift(spec);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setCurrentRevision("3");
    status.setCurrentImage(PINNED);
    status.setAppliedImage(IMAGE_1);
    status.setAppliedTargetRevision("3");
    DriftStatus drift = new DriftStatus();
    drift.setFingerprint(FP_1);
    drift.setTables(Map.of("public.orders", "aaaaaaaa"));
    drift.setRecordedAt(Time.format(NOW.minus(ago)));
    drift.setRecordedBy("orders-run");
    status.setDrift(drift);
    dbm.setStatus(status);
    return dbm;
  }

  void deployment() {
    cluster.deployments.add(
        new DeploymentBuilder()
            .withNewMetadata()
            .withName("orders-api")
            .withNamespace("shop")
            .withResourceVersion("1")
            .endMetadata()
            .withNewSpec()
            .withPaused(false)
            .endSpec()
            .build());
  }

  /** A check Job under way, as the cache holds it. */
  Job runningCheck(DatabaseMigration dbm) {
    RunInputs inputs =
        new RunInputs("c1", "orders-c1", Direction.CHECK, PINNED, IMAGE_1, "3", "3", 1);
    Job job = JobFactory.desired(dbm, inputs, JobDefaults.STANDARD);
    job.getMetadata().setCreationTimestamp(Time.format(NOW.minusSeconds(2)));
    cluster.jobs.add(job);
    DriftCheck check = new DriftCheck();
    check.setId("c1");
    check.setJob("orders-c1");
    check.setStartedAt(Time.format(NOW.minusSeconds(2)));
    check.setComparedWith(FP_1);
    dbm.getStatus().getDrift().setCheck(check);
    return job;
  }

  static void drifted(DatabaseMigration dbm) {
    LiveSchema live = new LiveSchema();
    live.setFingerprint(FP_2);
    live.setComparedWith(FP_1);
    live.setDrifted(true);
    live.setChanged(List.of("public.orders"));
    live.setSummary("changed public.orders");
    live.setCheckedAt(Time.format(NOW.minusSeconds(30)));
    live.setJob("orders-c0");
    dbm.getStatus().getDrift().setLive(live);
  }

  @Test
  void noCheckBeforeTheIntervalAndALookAgainWhenItIsDue() {
    ReconcileState state = reconcile(atTarget(IMAGE_1, Duration.ofMinutes(9), OnDrift.Report));
    assertThat(state.changes().checkJob()).isEmpty();
    assertThat(state.lookAgainAfter()).contains(Duration.ofMinutes(1));
    assertThat(state.status().getDrift().getCheck()).isNull();
    var drifted = Conditions.find(state.status().getConditions(), Conditions.DRIFTED).orElseThrow();
    assertThat(drifted.getStatus()).isEqualTo("False");
    assertThat(drifted.getReason()).isEqualTo("SchemaRecorded");
  }

  @Test
  void aCheckJobOnceTheIntervalHasPassedWithThePinnedImageAndADeterministicName() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofMinutes(10), OnDrift.Report);
    ReconcileState state = reconcile(dbm);
    Job check = state.changes().checkJob().orElseThrow();
    String id = Names.hash("uid-1", "check", Time.format(NOW));
    assertThat(check.getMetadata().getName()).isEqualTo(Names.jobName("orders", id));
    assertThat(RunCodec.isCheck(check)).isTrue();
    assertThat(RunCodec.isRun(check)).isFalse();
    var container = check.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo(PINNED);
    assertThat(container.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("SCHEMAGATE_DIRECTION");
              assertThat(e.getValue()).isEqualTo("check");
            });
    assertThat(check.getSpec().getActiveDeadlineSeconds()).isEqualTo(120L);
    assertThat(check.getMetadata().getOwnerReferences()).hasSize(1);
    assertThat(state.status().getDrift().getCheck().getJob())
        .isEqualTo(check.getMetadata().getName());
    assertThat(state.status().getDrift().getCheck().getComparedWith()).isEqualTo(FP_1);
    assertThat(state.changes().newJob()).isEmpty();
    assertThat(state.status().getPhase()).isEqualTo(Phase.Ready);

    // the next reconcile, with the Job in the cache, makes no second one
    cluster.jobs.add(check);
    dbm.setStatus(state.status());
    assertThat(reconcile(dbm).changes().checkJob()).isEmpty();
  }

  @Test
  void noCheckWhileARunIsUnderWayOrDecided() {
    DatabaseMigration dbm = atTarget(IMAGE_2, Duration.ofHours(1), OnDrift.Report);
    ReconcileState decided = reconcile(dbm);
    assertThat(decided.changes().newJob()).isPresent();
    assertThat(decided.changes().checkJob()).as("a run is decided").isEmpty();

    DatabaseMigration running = atTarget(IMAGE_2, Duration.ofHours(1), OnDrift.Report);
    RunInputs run = ((Decision.Start) RunPlanner.decide(running)).run();
    running.getStatus().setActiveRun(RunCodec.run(run, Time.format(NOW.minusSeconds(5))));
    cluster.jobs.add(JobFactory.desired(running, run, JobDefaults.STANDARD));
    ReconcileState underWay = reconcile(running);
    assertThat(underWay.status().getPhase()).isEqualTo(Phase.Migrating);
    assertThat(underWay.changes().checkJob()).as("a run is under way").isEmpty();
  }

  @Test
  void aRunWaitsForACheckUnderWayAndTheAppStaysHeld() {
    deployment();
    DatabaseMigration dbm = atTarget(IMAGE_2, Duration.ofMinutes(10), OnDrift.Report);
    runningCheck(dbm);
    ReconcileState state = reconcile(dbm);
    assertThat(state.changes().newJob()).as("no run while a check runs").isEmpty();
    assertThat(state.changes().checkJob()).isEmpty();
    assertThat(state.status().getPhase()).isEqualTo(Phase.Pending);
    var ready = Conditions.find(state.status().getConditions(), Conditions.READY).orElseThrow();
    assertThat(ready.getReason()).isEqualTo("DriftCheckRunning");
    assertThat(ready.getMessage()).contains("orders-c1");
    assertThat(state.changes().gatePatches())
        .singleElement()
        .satisfies(p -> assertThat(p.paused()).isTrue());
  }

  @Test
  void theNextCheckIsDueAnIntervalAfterTheLastOneEndedNotAfterItBegan() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofMinutes(10), OnDrift.Report);
    DriftCheck slow = new DriftCheck();
    slow.setId("c0");
    slow.setJob("orders-c0");
    slow.setStartedAt(Time.format(NOW.minusSeconds(12)));
    slow.setFinishedAt(Time.format(NOW.minusSeconds(2)));
    slow.setOutcome(CheckOutcome.NoDrift);
    slow.setComparedWith(FP_1);
    dbm.getStatus().getDrift().setCheck(slow);
    dbm.getSpec().getDrift().setInterval("10s");
    ReconcileState state = reconcile(dbm);
    assertThat(state.changes().checkJob())
        .as("10 s after it began, but only 2 s after it ended")
        .isEmpty();
    assertThat(state.lookAgainAfter()).contains(Duration.ofSeconds(8));
  }

  @Test
  void aCheckThatFoundAMigrationRunningIsTriedAgainWithinThirtySeconds() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofHours(1), OnDrift.Report);
    DriftCheck skipped = new DriftCheck();
    skipped.setId("c0");
    skipped.setJob("orders-c0");
    skipped.setStartedAt(Time.format(NOW.minusSeconds(20)));
    skipped.setOutcome(CheckOutcome.Skipped);
    skipped.setComparedWith(FP_1);
    dbm.getStatus().getDrift().setCheck(skipped);
    ReconcileState state = reconcile(dbm);
    assertThat(state.changes().checkJob()).isEmpty();
    assertThat(state.lookAgainAfter()).contains(Duration.ofSeconds(10));
  }

  @Test
  void blockHoldsARunUntilTheLiveFingerprintIsAcknowledged() {
    deployment();
    DatabaseMigration dbm = atTarget(IMAGE_2, Duration.ofMinutes(1), OnDrift.Block);
    drifted(dbm);
    ReconcileState blocked = reconcile(dbm);
    assertThat(blocked.changes().newJob()).isEmpty();
    assertThat(blocked.status().getPhase()).isEqualTo(Phase.DriftBlocked);
    var ready = Conditions.find(blocked.status().getConditions(), Conditions.READY).orElseThrow();
    assertThat(ready.getReason()).isEqualTo("DriftBlocked");
    assertThat(ready.getMessage())
        .contains("changed public.orders", "set spec.drift.acknowledged: " + FP_2);
    var drifted =
        Conditions.find(blocked.status().getConditions(), Conditions.DRIFTED).orElseThrow();
    assertThat(drifted.getStatus()).isEqualTo("True");
    assertThat(drifted.getReason()).isEqualTo("DriftDetected");
    assertThat(blocked.changes().gatePatches())
        .singleElement()
        .satisfies(p -> assertThat(p.paused()).isTrue());

    DatabaseMigration acknowledged = atTarget(IMAGE_2, Duration.ofMinutes(1), OnDrift.Block);
    drifted(acknowledged);
    acknowledged.getSpec().getDrift().setAcknowledged(FP_2);
    ReconcileState runs = reconcile(acknowledged);
    assertThat(runs.changes().newJob()).isPresent();
    assertThat(
            Conditions.find(runs.status().getConditions(), Conditions.DRIFTED)
                .orElseThrow()
                .getReason())
        .isEqualTo("DriftAcknowledged");

    DatabaseMigration report = atTarget(IMAGE_2, Duration.ofMinutes(1), OnDrift.Report);
    drifted(report);
    assertThat(reconcile(report).changes().newJob()).as("Report does not hold").isPresent();
  }

  @Test
  void aCheckJobOutsideTheClusterAdminsPolicyIsNotMadeAndTheCheckFails() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofMinutes(10), OnDrift.Report);
    MigrationPolicy policy =
        new MigrationPolicy(List.of("images.example.org/acme/*"), false, List.of("default"), false);
    ReconcileState state = reconcile(dbm, policy);
    assertThat(state.changes().checkJob()).isEmpty();
    DriftCheck check = state.status().getDrift().getCheck();
    assertThat(check.getOutcome()).isEqualTo(CheckOutcome.Failed);
    assertThat(check.getMessage()).startsWith("PolicyViolation: no check Job is made");
    var drifted = Conditions.find(state.status().getConditions(), Conditions.DRIFTED).orElseThrow();
    assertThat(drifted.getStatus()).isEqualTo("Unknown");
    assertThat(drifted.getReason()).isEqualTo("DriftCheckFailed");
    assertThat(state.lookAgainAfter())
        .as("the next attempt an interval later")
        .contains(Duration.ofMinutes(10));
  }

  @Test
  void aCheckJobTheApiServerRefusesFailsTheCheckAndTheNextIsTriedAfterTheInterval() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofMinutes(10), OnDrift.Report);
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    Pipeline pipeline =
        new Pipeline(MigrationPolicy.DEFAULTS, JobDefaults.STANDARD, GateMode.Pause);
    pipeline.decide(state);
    Job check = state.changes().checkJob().orElseThrow();
    state.written(
        new ClusterChanges.Written(
            List.of(
                new ClusterChanges.Refusal(ClusterChanges.Write.JOB, check, 403, "exceeded quota")),
            List.of(),
            List.of()));
    pipeline.conclude(state);

    DriftCheck failed = state.status().getDrift().getCheck();
    assertThat(failed.getOutcome()).isEqualTo(CheckOutcome.Failed);
    assertThat(failed.getMessage()).contains("the API server refused the check Job (403)");
    assertThat(failed.getFailures()).isEqualTo(1);
    assertThat(state.status().getPhase()).as("a check holds no app").isEqualTo(Phase.Ready);
    var drifted = Conditions.find(state.status().getConditions(), Conditions.DRIFTED).orElseThrow();
    assertThat(drifted.getReason()).isEqualTo("DriftCheckFailed");
    assertThat(state.lookAgainAfter()).contains(Duration.ofMinutes(10));
  }

  @Test
  void withoutAnIntervalThereIsNoCheckAndNoDriftedCondition() {
    DatabaseMigration dbm = atTarget(IMAGE_1, Duration.ofHours(1), OnDrift.Report);
    dbm.getSpec().setDrift(null);
    ReconcileState state = reconcile(dbm);
    assertThat(state.changes().checkJob()).isEmpty();
    assertThat(Conditions.find(state.status().getConditions(), Conditions.DRIFTED)).isEmpty();
    assertThat(state.status().getDrift().getFingerprint()).as("still recorded").isEqualTo(FP_1);
  }
}
