package dev.schemagate.operator.reconcile;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.ReconcileEvents.Notice;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reconcile's steps in order, on caches held in memory: what they decide to write. */
class ReconcileStepsTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  final FakeView cluster = new FakeView();

  /** The steps, in the order the reconciler runs them. */
  ReconcileState reconcile(DatabaseMigration dbm) {
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    ObserveRun.apply(state);
    RecordRun.apply(state);
    PlanRun.apply(state, MigrationPolicy.DEFAULTS);
    GateRollout.apply(state, GateMode.Pause);
    StartRun.apply(state, JobDefaults.STANDARD);
    ComposeStatus.apply(state);
    PruneJobs.apply(state);
    return state;
  }

  static DatabaseMigration orders(String image, String target) {
    return withUid(migration("shop", "orders", image, target, "orders-api"));
  }

  static RunInputs planned(DatabaseMigration dbm) {
    return ((Decision.Start) RunPlanner.decide(dbm)).run();
  }

  Job job(DatabaseMigration dbm, RunInputs run, String condition) {
    Job job = JobFactory.desired(dbm, run, JobDefaults.STANDARD);
    job.getMetadata().setCreationTimestamp("2026-11-25T09:00:00Z");
    if (condition != null) {
      job.setStatus(
          new JobStatusBuilder()
              .withConditions(
                  new JobConditionBuilder().withType(condition).withStatus("True").build())
              .build());
    }
    cluster.jobs.add(job);
    return job;
  }

  void pod(Job job, ContainerStatus container) {
    var terminated = container.getState().getTerminated();
    String phase =
        terminated == null ? "Pending" : terminated.getExitCode() == 0 ? "Succeeded" : "Failed";
    cluster.pods.add(
        new PodBuilder()
            .withMetadata(job.getSpec().getTemplate().getMetadata())
            .withNewStatus()
            .withPhase(phase)
            .withContainerStatuses(container)
            .endStatus()
            .build());
  }

  static ContainerStatus terminated(int exitCode, String message) {
    return new ContainerStatusBuilder()
        .withName(JobFactory.CONTAINER)
        .withNewState()
        .withNewTerminated()
        .withExitCode(exitCode)
        .withMessage(message)
        .endTerminated()
        .endState()
        .build();
  }

  static ContainerStatus waiting(String reason) {
    return new ContainerStatusBuilder()
        .withName(JobFactory.CONTAINER)
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .endWaiting()
        .endState()
        .build();
  }

  void deployment(boolean paused, String heldBy) {
    cluster.deployments.add(
        new DeploymentBuilder()
            .withNewMetadata()
            .withName("orders-api")
            .withNamespace("shop")
            .withResourceVersion("1")
            .withAnnotations(heldBy == null ? null : Map.of(HeldBy.KEY, heldBy))
            .endMetadata()
            .withNewSpec()
            .withPaused(paused)
            .endSpec()
            .build());
  }

  static List<EventReason> reasons(ReconcileState state) {
    return state.events().notices("3", state.status().getCurrentRevision()).stream()
        .map(Notice::reason)
        .toList();
  }

  @Test
  void aNewTargetHoldsTheAppThenStartsItsJob() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    deployment(false, null);

    ReconcileState state = reconcile(dbm);

    ClusterChanges changes = state.changes();
    assertThat(changes.gatePatches())
        .singleElement()
        .satisfies(p -> assertThat(p.paused()).isTrue());
    assertThat(changes.newJob())
        .hasValueSatisfying(n -> assertThat(n.run()).isEqualTo(planned(dbm)));
    DatabaseMigrationStatus status = state.status();
    assertThat(status.getPhase()).isEqualTo(Phase.Migrating);
    assertThat(status.getActiveRun().getJob()).isEqualTo(planned(dbm).jobName());
    assertThat(status.getActiveRun().getTargetRevision()).isEqualTo("3");
    assertThat(status.getHeldDeployments()).containsExactly("orders-api");
    assertThat(state.events().notices("3", null))
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.reason()).isEqualTo(EventReason.RunStarted);
              assertThat(n.message()).endsWith("; paused orders-api");
            });
    assertThat(dbm.getStatus()).as("the resource read is not changed").isNull();
  }

  @Test
  void aFinishedRunIsRecordedAndTheAppReleased() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    RunInputs run = planned(dbm);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setActiveRun(RunCodec.run(run, "2026-11-25T09:00:00Z"));
    status.getHeldDeployments().add("orders-api");
    dbm.setStatus(status);
    deployment(true, "orders");
    pod(job(dbm, run, "Complete"), terminated(0, result("", "3", "1", "2", "3")));

    ReconcileState state = reconcile(dbm);

    assertThat(state.status().getActiveRun()).isNull();
    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getOutcome()).isEqualTo(Outcome.Succeeded);
              assertThat(h.getToRevision()).isEqualTo("3");
            });
    assertThat(state.status().getCurrentRevision()).isEqualTo("3");
    assertThat(state.status().getPhase()).isEqualTo(Phase.Ready);
    assertThat(state.status().getHeldDeployments()).isEmpty();
    assertThat(state.changes().gatePatches())
        .singleElement()
        .satisfies(p -> assertThat(p.paused()).isFalse());
    assertThat(state.changes().newJob()).isEmpty();
    assertThat(state.events().notices("3", "3"))
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.reason()).isEqualTo(EventReason.RunSucceeded);
              assertThat(n.message()).endsWith("; resumed orders-api");
            });
  }

  @Test
  void aRunningJobThatNoStatusRecordsIsAdoptedNotDoubled() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    Job running = job(dbm, planned(dbm), null);

    ReconcileState state = reconcile(dbm);

    assertThat(state.changes().newJob()).isEmpty();
    assertThat(state.status().getActiveRun().getJob()).isEqualTo(running.getMetadata().getName());
    assertThat(state.status().getPhase()).isEqualTo(Phase.Migrating);
    assertThat(reasons(state)).containsExactly(EventReason.JobAdopted);
  }

  @Test
  void aRunBlockedWhenTheSpecChangedIsSupersededAndTheNewTargetStarts() {
    DatabaseMigration before = orders("registry.example.com/shop/missing:9", "3");
    RunInputs blocked = planned(before);
    pod(job(before, blocked, null), waiting("ImagePullBackOff"));
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    dbm.getMetadata().setGeneration(2L);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setActiveRun(RunCodec.run(blocked, "2026-11-25T09:00:00Z"));
    dbm.setStatus(status);

    ReconcileState state = reconcile(dbm);

    assertThat(state.changes().supersededJobs()).containsExactly(blocked.jobName());
    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(h -> assertThat(h.getReason()).isEqualTo("ImagePullFailed"));
    assertThat(state.changes().newJob())
        .hasValueSatisfying(n -> assertThat(n.run().image()).isEqualTo(IMAGE_1));
    assertThat(reasons(state)).containsExactly(EventReason.RunSuperseded, EventReason.RunStarted);
  }

  @Test
  void aJobOfTheDecidedRunThatAlreadyFinishedIsRecordedNotRunAgain() {
    DatabaseMigration dbm = orders(IMAGE_2, "5");
    pod(job(dbm, planned(dbm), "Complete"), terminated(0, result("", "5", "5")));

    ReconcileState state = reconcile(dbm);

    assertThat(state.changes().newJob()).isEmpty();
    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Succeeded));
    assertThat(state.status().getPhase()).isEqualTo(Phase.Ready);
    assertThat(reasons(state)).containsExactly(EventReason.RunSucceeded, EventReason.JobAdopted);
  }

  @Test
  void finishedJobsThatNoHistoryKeepsAreDeleted() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    RunInputs kept = planned(dbm);
    pod(job(dbm, kept, "Complete"), terminated(0, result("", "3", "3")));
    ReconcileState first = reconcile(dbm);
    Job cut =
        job(
            dbm,
            new RunInputs(
                "0000000000",
                "orders-0000000000",
                kept.direction(),
                IMAGE_1,
                IMAGE_1,
                "2",
                null,
                1),
            "Failed");

    ReconcileState state = reconcile(first.withStatus());

    assertThat(state.changes().finishedJobsToDelete()).containsExactly(cut);
  }

  @Test
  void aSecondReconcileAtTheTargetChangesNothing() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    pod(job(dbm, planned(dbm), "Complete"), terminated(0, result("", "3", "3")));
    ReconcileState first = reconcile(dbm);
    assertThat(first.statusChanged()).isTrue();

    ReconcileState second = reconcile(first.withStatus());

    assertThat(second.statusChanged()).isFalse();
    assertThat(second.changes().gatePatches()).isEmpty();
    assertThat(second.changes().newJob()).isEmpty();
    assertThat(second.changes().finishedJobsToDelete()).isEmpty();
    assertThat(second.events().notices("3", "3")).isEmpty();
  }
}
