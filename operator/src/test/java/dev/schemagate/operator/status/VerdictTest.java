package dev.schemagate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Phase;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Run;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.RunState;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Every decision and every state of a run under way is one verdict, and Ready, Reconciling and
 * Stalled follow from it: what `kubectl get dbm` and `kubectl wait` see.
 */
class VerdictTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  final DatabaseMigrationStatus status = new DatabaseMigrationStatus();

  static Run run() {
    Run run = new Run();
    run.setId("abcdef0123");
    run.setJob("orders-abcdef0123");
    run.setDirection(Direction.UPGRADE);
    run.setImage("shop/orders-migrations:2");
    run.setTargetRevision("5");
    return run;
  }

  Verdict of(Decision decision) {
    return StatusComposer.verdict(decision, status);
  }

  static String standing(Verdict v) {
    return (v.ready() ? "ready" : "not ready")
        + (v.reconciling() ? ", reconciling" : "")
        + (v.stalled() ? ", stalled" : "");
  }

  @Test
  void eachDecisionIsOneVerdict() {
    status.setCurrentRevision("3");
    PlanStatus plan = new PlanStatus();
    HistoryEntry failed = new HistoryEntry();
    failed.setId("f1");
    failed.setJob("orders-f1");
    failed.setReason("LockTimeout");
    failed.setMessage("revision 4 gave up on its lock");

    assertThat(of(new Decision.UpToDate()))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Ready, Reason.UpToDate, "ready");
    assertThat(of(new Decision.Suspended(false)))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Suspended, Reason.Suspended, "ready");
    assertThat(of(new Decision.Suspended(true)))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Suspended, Reason.Suspended, "not ready");
    assertThat(of(new Decision.Refused(Reason.PolicyViolation, "m", true)))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Failed, Reason.PolicyViolation, "not ready, stalled");
    assertThat(of(new Decision.Planning(plan, null, "planning")))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Pending, Reason.Planning, "not ready, reconciling");
    assertThat(of(new Decision.AwaitingApproval(plan, "approve it")))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.AwaitingApproval, Reason.ApprovalPending, "not ready");
    assertThat(of(new Decision.DriftBlocked("acknowledge it")))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.DriftBlocked, Reason.DriftBlocked, "not ready");
    assertThat(of(new Decision.AwaitingCheck("a check runs")))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Pending, Reason.DriftCheckRunning, "not ready, reconciling");
    Verdict retry = of(new Decision.AwaitingRetry(failed));
    assertThat(retry)
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Failed, Reason.LockTimeout, "not ready, stalled");
    assertThat(retry.message())
        .isEqualTo(
            "run f1 (Job orders-f1) failed: revision 4 gave up on its lock."
                + StatusComposer.RETRY_HINT);
  }

  @Test
  void aDatabaseThatNeedsABaselineIsToldWhichFieldToSet() {
    HistoryEntry failed = new HistoryEntry();
    failed.setId("f1");
    failed.setJob("orders-f1");
    failed.setReason("BaselineRequired");
    failed.setMessage("exit code 13");
    Verdict verdict = of(new Decision.AwaitingRetry(failed));
    assertThat(verdict)
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Failed, Reason.BaselineRequired, "not ready, stalled");
    assertThat(verdict.message())
        .isEqualTo(
            "run f1 (Job orders-f1) failed: exit code 13. Set spec.baseline.revision to the"
                + " revision the database is at (its migrations after that one run); that change"
                + " starts a new run.");
  }

  @Test
  void aBaselineOnADatabaseAtItsTargetIsSaidToBeUnused() {
    status.setCurrentRevision("4");
    status.setAppliedImage("shop/orders-migrations:4");
    Verdict verdict = of(new Decision.UpToDate("spec.baseline.revision 2 is not used"));
    assertThat(verdict)
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Ready, Reason.UpToDate, "ready");
    assertThat(verdict.message())
        .isEqualTo(
            "database at revision 4 (shop/orders-migrations:4); spec.baseline.revision 2 is not"
                + " used");
  }

  @Test
  void aSuspendedResourceThatStillHoldsItsAppIsNotReady() {
    status.getHeldDeployments().add("orders-api");
    assertThat(of(new Decision.Suspended(false)).ready()).isFalse();
  }

  @Test
  void aReasonAnOlderOperatorRecordedThatThisOneHasNotReadsAsAFailedMigration() {
    HistoryEntry failed = new HistoryEntry();
    failed.setReason("MigrationStarting");
    assertThat(of(new Decision.AwaitingRetry(failed)).reason()).isEqualTo(Reason.MigrationFailed);
  }

  @Test
  void eachStateOfARunUnderWayIsOneVerdict() {
    assertThat(StatusComposer.verdict(run(), new RunState.Running("Job x is running")))
        .extracting(Verdict::phase, Verdict::reason, Verdict::message, VerdictTest::standing)
        .containsExactly(
            Phase.Migrating,
            Reason.MigrationRunning,
            "running upgrade to 5 with shop/orders-migrations:2 (Job orders-abcdef0123)",
            "not ready, reconciling");
    assertThat(StatusComposer.verdict(run(), new RunState.Stopping("its pod still stops")))
        .extracting(Verdict::phase, Verdict::message, VerdictTest::standing)
        .containsExactly(Phase.Migrating, "its pod still stops", "not ready, reconciling");
    assertThat(
            StatusComposer.verdict(
                run(), new RunState.Blocked(Reason.ImagePullFailed, "cannot be pulled")))
        .extracting(Verdict::phase, Verdict::reason, VerdictTest::standing)
        .containsExactly(Phase.Failed, Reason.ImagePullFailed, "not ready, stalled");
  }

  @Test
  void readyReconcilingAndStalledFollowFromTheVerdictAlone() {
    Conditions at = new Conditions(4, NOW);
    StatusComposer.apply(
        status, new Verdict(Phase.Failed, false, Reason.DowngradeForbidden, "set Allow"), at);
    assertThat(status.getPhase()).isEqualTo(Phase.Failed);
    assertThat(status.getObservedGeneration()).isEqualTo(4L);
    assertThat(status.getConditions())
        .extracting(Condition::getType, Condition::getStatus, Condition::getReason)
        .containsExactly(
            tuple("Ready", "False", "DowngradeForbidden"),
            tuple("Reconciling", "False", "DowngradeForbidden"),
            tuple("Stalled", "True", "DowngradeForbidden"));
    assertThat(status.getConditions())
        .allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(4L));

    StatusComposer.apply(
        status, new Verdict(Phase.Migrating, false, Reason.MigrationRunning, "running"), at);
    assertThat(status.getConditions())
        .extracting(
            Condition::getType, Condition::getStatus, Condition::getReason, Condition::getMessage)
        .containsExactly(
            tuple("Ready", "False", "MigrationRunning", "running"),
            tuple("Reconciling", "True", "MigrationRunning", "running"),
            tuple("Stalled", "False", "NotStalled", ""));
  }
}
