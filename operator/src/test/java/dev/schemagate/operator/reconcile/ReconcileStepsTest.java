package dev.schemagate.operator.reconcile;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Run;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.ReconcileEvents.Notice;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The reconcile's steps in order, on caches held in memory: what they decide to write. */
class ReconcileStepsTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  final FakeView cluster = new FakeView();

  final Pipeline pipeline =
      new Pipeline(MigrationPolicy.DEFAULTS, JobDefaults.STANDARD, GateMode.Pause);

  /** The steps, in the order the reconciler runs them. */
  ReconcileState reconcile(DatabaseMigration dbm) {
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    pipeline.run(state);
    return state;
  }

  /** The steps, with the API server answering every Job the reconcile creates with this code. */
  ReconcileState reconcile(DatabaseMigration dbm, int code, String message) {
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    pipeline.decide(state);
    state.written(
        new ClusterChanges.Written(
            state.changes().newJobs().stream()
                .map(
                    job -> new ClusterChanges.Refusal(ClusterChanges.Write.JOB, job, code, message))
                .toList(),
            List.of(),
            List.of()));
    pipeline.conclude(state);
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
    job.getMetadata().setUid("uid-" + run.jobName());
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
    cluster.pods.add(JobPods.of(job, container));
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
        .hasValueSatisfying(n -> assertThat(RunCodec.inputs(n)).isEqualTo(planned(dbm)));
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

  /**
   * An Alembic run needs the kit's image; an operator given none starts no Job and says what to
   * set, and keeps the app held (the hold always precedes the Job).
   */
  @Test
  void anAlembicRunWithNoKitImageStartsNoJobAndSaysWhatToSet() {
    DatabaseMigration dbm = orders(IMAGE_1, "head");
    dbm.getSpec().setTool(Tool.ALEMBIC);
    deployment(false, null);

    ReconcileState state = reconcile(dbm);

    assertThat(state.changes().newJob()).isEmpty();
    DatabaseMigrationStatus status = state.status();
    assertThat(status.getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Ready");
              assertThat(c.getReason()).isEqualTo(Reason.InvalidConfiguration.name());
              assertThat(c.getMessage())
                  .contains(
                      "alembicKit.repository", "SCHEMAGATE_ALEMBIC_KIT_IMAGE", "nothing was run");
            });

    ReconcileState given = ReconcileState.begin(dbm, cluster, NOW);
    new Pipeline(
            MigrationPolicy.DEFAULTS,
            JobDefaults.STANDARD.withAlembicKit("images.example.org/schemagate/alembic-kit:0.1.0"),
            GateMode.Pause)
        .run(given);
    assertThat(given.changes().newJob()).as("with a kit image, the run starts").isPresent();
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
        .hasValueSatisfying(n -> assertThat(RunCodec.inputs(n).image()).isEqualTo(IMAGE_1));
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
  void aJobTheApiServerRefusesIsNoRunUnderWayButAStalledResourceTriedAgainSoon() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    deployment(false, null);

    ReconcileState state =
        reconcile(dbm, 403, "jobs \"orders-x\" is forbidden: exceeded quota: count/jobs.batch");

    DatabaseMigrationStatus status = state.status();
    assertThat(status.getActiveRun()).as("no Job, no run under way").isNull();
    assertThat(status.getPhase()).isEqualTo(Phase.Failed);
    var stalled = Conditions.find(status.getConditions(), Conditions.STALLED).orElseThrow();
    assertThat(stalled.getReason()).isEqualTo("JobRejected");
    assertThat(stalled.getMessage())
        .contains("the API server refused Job " + planned(dbm).jobName(), "(403)", "quota");
    assertThat(status.getHeldDeployments()).as("the app stays held").containsExactly("orders-api");
    assertThat(reasons(state)).containsExactly(EventReason.JobRejected, EventReason.RolloutHeld);
    assertThat(state.lookAgainAfter()).contains(Duration.ofSeconds(1));
  }

  @Test
  void aJobOfThatNameThatExistsAlreadyIsAdoptedNotStarted() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    // the operator made it before, and lost the status write that recorded it
    Job made = job(dbm, planned(dbm), null);

    ReconcileState state = reconcile(dbm, 409, "already exists");

    assertThat(state.status().getActiveRun().getJob()).isEqualTo(planned(dbm).jobName());
    assertThat(state.status().getActiveRun().getJobUid()).isEqualTo(made.getMetadata().getUid());
    assertThat(state.status().getPhase()).isEqualTo(Phase.Migrating);
    assertThat(reasons(state)).containsExactly(EventReason.JobAdopted);
  }

  @Test
  void aJobOfThatNameTheOperatorDidNotMakeHoldsTheRunBackAndIsNamed() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    deployment(false, null);
    // finished: it holds the run's name, not the database
    Job lookAlike = job(dbm, planned(dbm), "Complete");
    lookAlike.getSpec().getTemplate().getSpec().getContainers().get(0).setCommand(List.of("sh"));
    lookAlike
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0)
        .setArgs(List.of("-c", "echo '{\"toRevision\":\"7\"}' > /dev/termination-log"));

    ReconcileState state = reconcile(dbm, 409, "already exists");

    DatabaseMigrationStatus status = state.status();
    assertThat(status.getActiveRun()).as("no run under way").isNull();
    assertThat(status.getPhase()).isEqualTo(Phase.Failed);
    var stalled = Conditions.find(status.getConditions(), Conditions.STALLED).orElseThrow();
    assertThat(stalled.getReason()).isEqualTo("ForeignJob");
    assertThat(stalled.getMessage())
        .contains(planned(dbm).jobName(), "taken by a Job the operator did not make", "Delete it");
    assertThat(status.getHeldDeployments()).as("the app stays held").containsExactly("orders-api");
    assertThat(state.events().notices("3", null))
        .anySatisfy(
            n -> {
              assertThat(n.reason()).isEqualTo(EventReason.ForeignJob);
              assertThat(n.message())
                  .contains("Job " + planned(dbm).jobName(), "spec.template.spec containers");
            });
    assertThat(state.lookAgainAfter()).contains(Duration.ofSeconds(1));
  }

  @Test
  void aLookAlikeJobIsNeverRecordedAndARunningOneHoldsRunsBack() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    deployment(false, null);
    // the operator's labels and annotations on a Job of someone else's, with its own image
    RunInputs forged =
        new RunInputs(
            "ffffffffff",
            Names.jobName("orders", "ffffffffff"),
            Direction.UPGRADE,
            "evil.example.com/writes-a-result:1",
            IMAGE_1,
            "3",
            null,
            1);
    Job running = job(dbm, forged, null);

    ReconcileState state = reconcile(dbm);

    assertThat(state.status().getActiveRun()).as("never adopted").isNull();
    assertThat(state.changes().newJob()).as("no second migration beside it").isEmpty();
    var stalled = Conditions.find(state.status().getConditions(), Conditions.STALLED).orElseThrow();
    assertThat(stalled.getReason()).isEqualTo("ForeignJob");
    assertThat(stalled.getMessage())
        .contains(
            "Job " + Names.jobName("orders", "ffffffffff"),
            "evil.example.com/writes-a-result:1",
            "not be recorded");
    assertThat(reasons(state)).contains(EventReason.ForeignJob);

    // it ends, reporting revision 7: nothing of it is recorded, and the real run starts
    running.setStatus(
        new JobStatusBuilder()
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());
    pod(running, terminated(0, result("", "7", "7")));
    ReconcileState after = reconcile(state.withStatus());
    assertThat(after.status().getHistory()).isEmpty();
    assertThat(after.status().getCurrentRevision()).isNull();
    assertThat(after.changes().newJob())
        .hasValueSatisfying(
            j -> assertThat(j.getMetadata().getName()).isEqualTo(planned(dbm).jobName()));
    assertThat(after.changes().finishedJobsToDelete()).as("not the operator's to delete").isEmpty();
  }

  @Test
  void onlyThePodsTheJobControlsReportItsResult() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    RunInputs run = planned(dbm);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    Run active = RunCodec.run(run, "2026-11-25T09:00:00Z");
    active.setJobUid("uid-" + run.jobName());
    status.setActiveRun(active);
    dbm.setStatus(status);
    Job job = job(dbm, run, "Failed");
    pod(job, terminated(4, "{\"message\":\"relation app_user already exists\"}"));
    // a bare pod with the run's label, newer, reporting success at revision 7
    cluster.pods.add(
        new PodBuilder()
            .withNewMetadata()
            .withName(run.jobName() + "-forged")
            .withLabels(Map.of(RunCodec.RUN_ID, run.id()))
            .withCreationTimestamp("2026-11-25T09:59:59Z")
            .endMetadata()
            .withSpec(job.getSpec().getTemplate().getSpec())
            .withNewStatus()
            .withPhase("Succeeded")
            .withContainerStatuses(terminated(0, result("", "7", "7")))
            .endStatus()
            .build());

    ReconcileState state = reconcile(dbm);

    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getOutcome()).isEqualTo(Outcome.Failed);
              assertThat(h.getMessage()).contains("exit code 4", "already exists");
            });
    assertThat(state.status().getCurrentRevision()).isNull();
    assertThat(state.events().notices("3", null))
        .anySatisfy(
            n -> {
              assertThat(n.reason()).isEqualTo(EventReason.ForeignPod);
              assertThat(n.message())
                  .contains(run.jobName() + "-forged", "does not control it", "missing");
            });
  }

  @Test
  void aJobReplacedUnderItsRecordedNameIsNotTheRunsJob() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    RunInputs run = planned(dbm);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    Run active = RunCodec.run(run, "2026-11-25T09:00:00Z");
    active.setJobUid("uid-of-the-job-the-operator-made");
    status.setActiveRun(active);
    dbm.setStatus(status);
    // the operator's Job was deleted; an exact copy made under its name reports revision 3
    pod(job(dbm, run, "Complete"), terminated(0, result("", "3", "3")));

    ReconcileState state = reconcile(dbm);

    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(h -> assertThat(h.getReason()).isEqualTo("JobDeleted"));
    assertThat(state.status().getCurrentRevision()).isNull();
    assertThat(reasons(state)).contains(EventReason.ForeignJob, EventReason.JobDeleted);
  }

  @Test
  void aCompleteJobWithNoPodOfItsOwnReportingSuccessIsNoSuccess() {
    DatabaseMigration dbm = orders(IMAGE_1, "3");
    RunInputs run = planned(dbm);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    Run active = RunCodec.run(run, "2026-11-25T09:00:00Z");
    active.setJobUid("uid-" + run.jobName());
    status.setActiveRun(active);
    dbm.setStatus(status);
    Job job = job(dbm, run, "Complete");
    job.getStatus().getConditions().get(0).setLastTransitionTime("2026-11-25T09:59:00Z");
    // the pod the Job controller counted: controlled by the Job, but running something else
    Pod counted =
        new PodBuilder()
            .withNewMetadata()
            .withName(run.jobName() + "-counted")
            .withLabels(Map.of(RunCodec.RUN_ID, run.id()))
            .addNewOwnerReference()
            .withKind("Job")
            .withName(run.jobName())
            .withUid(job.getMetadata().getUid())
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName(JobFactory.CONTAINER)
            .withImage("evil.example.com/writes-a-result:1")
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Succeeded")
            .withContainerStatuses(terminated(0, result("", "7", "7")))
            .endStatus()
            .build();
    cluster.pods.add(counted);

    ReconcileState state = reconcile(dbm);

    assertThat(state.status().getHistory())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getReason()).isEqualTo("ResultMissing");
              assertThat(h.getMessage()).contains("no pod of its own", "runs again");
            });
    assertThat(state.status().getCurrentRevision()).isNull();
    assertThat(state.changes().newJob()).as("the run starts again").isPresent();
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
