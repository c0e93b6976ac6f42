package dev.schemagate.operator.reconcile;

import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.ContractMode;
import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.GateSpec;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunPart;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.ReconcileEvents.Notice;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A release with a contract migration, through the reconcile's steps: its expand part, the app
 * released, the contract part only after the rollout is complete (never while it is stuck; with
 * spec.contract: Manual only once approved), and a rollback onto the contracted schema held.
 */
class ExpandContractStepsTest {
  static final Instant NOW = Instant.parse("2026-12-07T07:00:00Z");
  final FakeView cluster = new FakeView();

  static final String EXPAND_RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"3\",\"toRevision\":\"4\","
          + "\"applied\":[{\"revision\":\"4\",\"description\":\"add full name\","
          + "\"kind\":\"expand\"}],\"held\":[{\"revision\":\"5\",\"description\":\"drop name\","
          + "\"kind\":\"contract\"}]}";

  static final String CONTRACT_RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"4\",\"toRevision\":\"5\","
          + "\"applied\":[{\"revision\":\"5\",\"description\":\"drop name\","
          + "\"kind\":\"contract\"}]}";

  ReconcileState reconcile(DatabaseMigration dbm, GateMode mode) {
    ReconcileState state = ReconcileState.begin(dbm, cluster, NOW);
    new Pipeline(MigrationPolicy.DEFAULTS, JobDefaults.STANDARD, mode).run(state);
    return state;
  }

  static DatabaseMigration release() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_2, "5", "orders-api"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setCurrentRevision("3");
    status.setAppliedRevisions(new java.util.ArrayList<>(List.of("1", "2", "3")));
    dbm.setStatus(status);
    return dbm;
  }

  Job finished(DatabaseMigration dbm, RunInputs run, String result) {
    Job job = JobFactory.desired(dbm, run, JobDefaults.STANDARD);
    job.getMetadata().setCreationTimestamp("2026-12-07T06:59:00Z");
    job.getMetadata().setUid("uid-" + run.jobName());
    job.setStatus(
        new JobStatusBuilder()
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());
    cluster.jobs.add(job);
    cluster.pods.add(JobPods.of(job, ReconcileStepsTest.terminated(0, result)));
    return job;
  }

  /** orders-api, with 2 replicas wanted: updated of them on the new template, total pods. */
  void deployment(boolean paused, String heldBy, int updated, int total, boolean deadline) {
    cluster.deployments.clear();
    var status =
        new io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder()
            .withObservedGeneration(2L)
            .withReplicas(total)
            .withUpdatedReplicas(updated)
            .withAvailableReplicas(updated);
    if (deadline) {
      status
          .addNewCondition()
          .withType("Progressing")
          .withStatus("False")
          .withReason("ProgressDeadlineExceeded")
          .withMessage("ReplicaSet \"orders-api-7d9\" has timed out progressing.")
          .endCondition();
    }
    cluster.deployments.add(
        new DeploymentBuilder()
            .withNewMetadata()
            .withName("orders-api")
            .withNamespace("shop")
            .withGeneration(2L)
            .withResourceVersion("1")
            .withAnnotations(heldBy == null ? null : Map.of(HeldBy.KEY, heldBy))
            .endMetadata()
            .withNewSpec()
            .withReplicas(2)
            .withPaused(paused)
            .endSpec()
            .withStatus(status.build())
            .build());
  }

  /** The reconcile that records the expand part's Job, and what it leaves. */
  ReconcileState expandRecorded(DatabaseMigration dbm) {
    RunInputs expand = ((Decision.Start) RunPlanner.decide(dbm)).run();
    assertThat(expand.part()).isEqualTo(RunPart.EXPAND);
    DatabaseMigrationStatus status = dbm.getStatus();
    status.setActiveRun(RunCodec.run(expand, "2026-12-07T06:59:00Z"));
    status.getHeldDeployments().add("orders-api");
    finished(dbm, expand, EXPAND_RESULT);
    return reconcile(dbm, GateMode.Pause);
  }

  static Condition condition(ReconcileState state, String type) {
    return Conditions.find(state.status().getConditions(), type).orElseThrow();
  }

  static List<EventReason> reasons(ReconcileState state) {
    return state.events().notices("5", state.status().getCurrentRevision()).stream()
        .map(Notice::reason)
        .toList();
  }

  static DatabaseMigration next(DatabaseMigration dbm, ReconcileState state) {
    DatabaseMigration copy = state.withStatus();
    copy.setStatus(state.status());
    return copy;
  }

  @Test
  void theExpandPartReleasesTheAppAndItsContractPartWaitsForTheRollout() {
    DatabaseMigration dbm = release();
    deployment(true, "orders", 0, 2, false);

    ReconcileState state = expandRecorded(dbm);

    DatabaseMigrationStatus status = state.status();
    assertThat(status.getPhase()).isEqualTo(Phase.RollingOut);
    assertThat(status.getCurrentRevision()).isEqualTo("4");
    assertThat(status.getHistory().get(0).getPart()).isEqualTo(MigrationKind.EXPAND);
    assertThat(condition(state, Conditions.READY).getStatus()).isEqualTo("True");
    assertThat(condition(state, Conditions.READY).getReason())
        .isEqualTo(Reason.AwaitingRollout.name());
    assertThat(condition(state, Conditions.STALLED).getStatus()).isEqualTo("False");
    assertThat(status.getContract().getPhase()).isEqualTo(ContractPhase.AwaitingRollout);
    assertThat(status.getContract().getWaitingFor()).containsExactly("orders-api (paused)");
    assertThat(status.getContract().getRolloutCompletedAt()).isNull();
    assertThat(status.getHeldDeployments()).isEmpty();
    assertThat(state.changes().gatePatches())
        .as("the app of the release rolls out on the expanded schema")
        .singleElement()
        .satisfies(p -> assertThat(p.paused()).isFalse());
    assertThat(state.changes().newJob()).as("no contract before the rollout").isEmpty();
  }

  @Test
  void theContractPartStartsOnlyOnceTheRolloutIsCompleteAndHoldsNothing() {
    DatabaseMigration dbm = release();
    deployment(true, "orders", 0, 2, false);
    ReconcileState expanded = expandRecorded(dbm);

    // half way: one new replica, two old ones
    deployment(false, null, 1, 3, false);
    ReconcileState rolling = reconcile(next(dbm, expanded), GateMode.Pause);
    assertThat(rolling.changes().newJob()).isEmpty();
    assertThat(rolling.status().getContract().getWaitingFor())
        .containsExactly("orders-api (1 of 2 replicas on the new template)");
    assertThat(rolling.status().getPhase()).isEqualTo(Phase.RollingOut);

    // every replica on the new template, available, no old pod left
    deployment(false, null, 2, 2, false);
    ReconcileState rolledOut = reconcile(next(dbm, rolling), GateMode.Pause);

    Job contract = rolledOut.changes().newJob().orElseThrow();
    assertThat(RunCodec.inputs(contract).part()).isEqualTo(RunPart.CONTRACT);
    assertThat(contract.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName, EnvVar::getValue)
        .contains(org.assertj.core.groups.Tuple.tuple("SCHEMAGATE_CONTRACT", "apply"));
    DatabaseMigrationStatus status = rolledOut.status();
    assertThat(status.getPhase()).isEqualTo(Phase.Contracting);
    assertThat(condition(rolledOut, Conditions.READY).getStatus()).isEqualTo("True");
    assertThat(condition(rolledOut, Conditions.RECONCILING).getStatus()).isEqualTo("True");
    assertThat(status.getContract().getPhase()).isEqualTo(ContractPhase.Contracting);
    assertThat(status.getContract().getRolloutCompletedAt()).isEqualTo("2026-12-07T07:00:00Z");
    assertThat(rolledOut.changes().gatePatches()).as("the app is not held again").isEmpty();
    assertThat(rolledOut.events().notices("5", "4"))
        .extracting(Notice::reason)
        .contains(EventReason.RolloutComplete, EventReason.RunStarted);
    assertThat(rolledOut.events().notices("5", "4"))
        .filteredOn(n -> n.reason() == EventReason.RunStarted)
        .singleElement()
        .satisfies(n -> assertThat(n.message()).contains("the contract part, after the rollout"));

    // the contract part's Job ends: the release is at its target
    finished(next(dbm, rolledOut), RunCodec.inputs(contract), CONTRACT_RESULT);
    ReconcileState done = reconcile(next(dbm, rolledOut), GateMode.Pause);
    assertThat(done.status().getPhase()).isEqualTo(Phase.Ready);
    assertThat(done.status().getCurrentRevision()).isEqualTo("5");
    assertThat(done.status().getContractRevisions()).containsExactly("5");
    assertThat(done.status().getContract().getPhase()).isEqualTo(ContractPhase.Completed);
    assertThat(done.status().getHistory().get(0).getPart()).isEqualTo(MigrationKind.CONTRACT);
    assertThat(done.changes().newJob()).isEmpty();
  }

  @Test
  void aStuckRolloutNeverContracts() {
    DatabaseMigration dbm = release();
    deployment(true, "orders", 0, 2, false);
    ReconcileState expanded = expandRecorded(dbm);

    deployment(false, null, 1, 3, true);
    ReconcileState stuck = reconcile(next(dbm, expanded), GateMode.Pause);

    assertThat(stuck.changes().newJob()).isEmpty();
    assertThat(stuck.status().getContract().getPhase()).isEqualTo(ContractPhase.RolloutStuck);
    assertThat(condition(stuck, Conditions.STALLED).getStatus()).isEqualTo("True");
    assertThat(condition(stuck, Conditions.STALLED).getReason())
        .isEqualTo(Reason.RolloutStuck.name());
    assertThat(condition(stuck, Conditions.STALLED).getMessage())
        .contains(
            "orders-api: ProgressDeadlineExceeded after progressDeadlineSeconds 600",
            "does not run while the rollout is stuck");
    assertThat(reasons(stuck)).contains(EventReason.RolloutStuck);
    assertThat(stuck.changes().gatePatches()).isEmpty();
  }

  /** orders-api's pod template names orders and requires the revision. */
  void templateRequires(String revision) {
    cluster
        .deployments
        .get(0)
        .getSpec()
        .setTemplate(
            new io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder()
                .withNewMetadata()
                .withLabels(Map.of(PodRequirement.LABEL, "orders"))
                .withAnnotations(Map.of(PodRequirement.REQUIRES, revision))
                .endMetadata()
                .build());
  }

  @Test
  void aRollbackBeforeTheContractKeepsTheContractPartWaiting() {
    DatabaseMigration dbm = release();
    deployment(true, "orders", 0, 2, false);
    ReconcileState expanded = expandRecorded(dbm);

    // rolled back before the contract: every replica on the old template, which requires 3
    deployment(false, null, 2, 2, false);
    templateRequires("3");
    ReconcileState rolledBack = reconcile(next(dbm, expanded), GateMode.Pause);

    assertThat(rolledBack.changes().newJob())
        .as("no contract under pods that need what it removes")
        .isEmpty();
    assertThat(rolledBack.status().getContract().getPhase())
        .isEqualTo(ContractPhase.AwaitingRollout);
    assertThat(rolledBack.status().getContract().getWaitingFor())
        .containsExactly(
            "orders-api (its pod template requires revision 3, which contract migration 5 would"
                + " contract: roll forward to a template that requires 5 or later)");

    // rolled forward onto a template of the release: the contract part runs
    templateRequires("5");
    ReconcileState rolledForward = reconcile(next(dbm, rolledBack), GateMode.Pause);
    assertThat(rolledForward.changes().newJob())
        .hasValueSatisfying(j -> assertThat(RunCodec.inputs(j).part()).isEqualTo(RunPart.CONTRACT));
  }

  @Test
  void aManualContractWaitsForItsApprovalAfterTheRollout() {
    DatabaseMigration dbm = release();
    dbm.getSpec().setContract(ContractMode.Manual);
    deployment(true, "orders", 0, 2, false);
    ReconcileState expanded = expandRecorded(dbm);

    deployment(false, null, 2, 2, false);
    ReconcileState awaiting = reconcile(next(dbm, expanded), GateMode.Pause);
    assertThat(awaiting.changes().newJob()).isEmpty();
    String hash = awaiting.status().getContract().getHash();
    assertThat(awaiting.status().getContract().getAwaitingApproval()).isEqualTo(hash);
    assertThat(awaiting.status().getContract().getRolloutCompletedAt())
        .isEqualTo("2026-12-07T07:00:00Z");
    assertThat(condition(awaiting, Conditions.READY).getReason())
        .isEqualTo(Reason.ContractApprovalPending.name());
    assertThat(condition(awaiting, Conditions.READY).getMessage())
        .endsWith("set spec.approvedContract: " + hash);

    DatabaseMigration approved = next(dbm, awaiting);
    approved.getSpec().setApprovedContract(hash);
    ReconcileState started = reconcile(approved, GateMode.Pause);
    assertThat(started.changes().newJob())
        .hasValueSatisfying(j -> assertThat(RunCodec.inputs(j).part()).isEqualTo(RunPart.CONTRACT));
    dbm.getSpec().setApprovedContract(null);
  }

  /** A pod of the app that requires a revision, created while the gate holds at admission. */
  void appPod(String name, String requires) {
    cluster.appPods.add(
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("shop")
            .withCreationTimestamp("2026-12-07T06:59:30Z")
            .withLabels(Map.of(PodRequirement.LABEL, "orders"))
            .withAnnotations(Map.of(PodRequirement.REQUIRES, requires))
            .endMetadata()
            .withNewSpec()
            .addNewSchedulingGate(PodRequirement.GATE)
            .endSpec()
            .build());
  }

  static DatabaseMigration contracted() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_2, "5"));
    GateSpec gate = new GateSpec();
    gate.setMode(GateMode.Admission);
    dbm.getSpec().setGate(gate);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setCurrentRevision("5");
    status.setCurrentImage(IMAGE_2);
    status.setAppliedImage(IMAGE_2);
    status.setAppliedTargetRevision("5");
    status.setAppliedRevisions(new java.util.ArrayList<>(List.of("1", "2", "3", "4", "5")));
    status.setContractRevisions(new java.util.ArrayList<>(List.of("5")));
    dbm.setStatus(status);
    return dbm;
  }

  @Test
  void aRollbackOntoTheContractedSchemaIsHeldWithTheReasonAndWhatToDo() {
    appPod("orders-api-old-1", "3");
    appPod("orders-api-new-1", "5");

    ReconcileState state = reconcile(contracted(), GateMode.Admission);

    assertThat(state.changes().gateLifts())
        .as("the pod on the contracted schema's revision starts at once")
        .singleElement()
        .satisfies(l -> assertThat(l.pod().getMetadata().getName()).isEqualTo("orders-api-new-1"));
    assertThat(state.status().getHeldPods()).containsExactly("orders-api-old-1");
    Condition held = condition(state, Conditions.ROLLOUT_HELD);
    assertThat(held.getStatus()).isEqualTo("True");
    assertThat(held.getReason()).isEqualTo(Reason.SchemaContracted.name());
    assertThat(held.getMessage())
        .contains(
            "revision 3 of DatabaseMigration orders is contracted: contract migration 5",
            "Roll forward to a template that requires 5 or later",
            "spec.downgrade.policy: Allow");
    assertThat(reasons(state)).contains(EventReason.SchemaContracted);
  }

  @Test
  void aRollbackBeforeTheContractStartsAtOnce() {
    DatabaseMigration dbm = contracted();
    dbm.getStatus().setContractRevisions(new java.util.ArrayList<>());
    appPod("orders-api-old-1", "3");

    ReconcileState state = reconcile(dbm, GateMode.Admission);

    assertThat(state.changes().gateLifts()).hasSize(1);
    assertThat(state.status().getHeldPods()).isEmpty();
    assertThat(condition(state, Conditions.ROLLOUT_HELD).getStatus()).isEqualTo("False");
  }
}
