package dev.schemagate.operator.plan;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.succeeded;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.DowngradeSpec;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.run.RunInputs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The planner: whether a run is needed, in which direction, with which image. */
class RunPlannerTest {

  @Test
  void plannerStartsAnUpgradeWhenTheSpecDiffersFromTheLastSuccess() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.Start.class);
    Decision.Start start = (Decision.Start) RunPlanner.decide(dbm);
    assertThat(start.run().direction()).isEqualTo(Direction.UPGRADE);
    assertThat(start.run().image()).isEqualTo(IMAGE_1);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_1);
    status.setAppliedTargetRevision("3");
    status.setCurrentRevision("3");
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.UpToDate.class);
    dbm.getSpec().setSuspend(true);
    assertThat(RunPlanner.decide(dbm)).isEqualTo(new Decision.Suspended(false));
  }

  @Test
  void aBaselineGivenOrChangedOnceTheDatabaseHasItsHistoryStartsNoRunAndIsSaidToBeUnused() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "4"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_1);
    status.setAppliedTargetRevision("4");
    status.setCurrentRevision("4");
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm)).isEqualTo(new Decision.UpToDate(""));
    dev.schemagate.api.BaselineSpec baseline = new dev.schemagate.api.BaselineSpec();
    baseline.setRevision("3");
    dbm.getSpec().setBaseline(baseline);
    dbm.getMetadata().setGeneration(2L);
    assertThat(RunPlanner.decide(dbm))
        .isEqualTo(
            new Decision.UpToDate(
                "spec.baseline.revision 3 is not used: a baseline is read only on a database"
                    + " without its history table, and this one has its history (a change of"
                    + " spec.baseline starts no run; it may be removed)"));
  }

  @Test
  void plannerRefusesADowngradeUnlessAllowedAndThenUsesTheCurrentImage() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_2);
    status.setAppliedTargetRevision("5");
    status.setCurrentRevision("5");
    status.setCurrentImage(IMAGE_2);
    status.setHistory(
        new ArrayList<>(
            List.of(
                succeeded(Direction.UPGRADE, "3", "5"), succeeded(Direction.UPGRADE, "", "3"))));
    dbm.setStatus(status);
    Decision refused = RunPlanner.decide(dbm);
    assertThat(refused).isInstanceOf(Decision.Refused.class);
    assertThat(((Decision.Refused) refused).reason()).isEqualTo(Reason.DowngradeForbidden);
    DowngradeSpec allow = new DowngradeSpec();
    allow.setPolicy(DowngradePolicy.Allow);
    dbm.getSpec().setDowngrade(allow);
    Decision.Start start = (Decision.Start) RunPlanner.decide(dbm);
    assertThat(start.run().direction()).isEqualTo(Direction.DOWNGRADE);
    assertThat(start.run().image()).isEqualTo(IMAGE_2);
    assertThat(start.run().requestedImage()).isEqualTo(IMAGE_1);
  }

  @Test
  void plannerWaitsForARetryAfterAFailureAndTheRetryAnnotationChangesTheRun() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    RunInputs first = ((Decision.Start) RunPlanner.decide(dbm)).run();
    HistoryEntry failed = new HistoryEntry();
    failed.setId(first.id());
    failed.setOutcome(Outcome.Failed);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setHistory(new ArrayList<>(List.of(failed)));
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.AwaitingRetry.class);
    dbm.getMetadata()
        .setAnnotations(new java.util.HashMap<>(java.util.Map.of(RunPlanner.RETRY, "2026-11-25")));
    RunInputs retry = ((Decision.Start) RunPlanner.decide(dbm)).run();
    assertThat(retry.id()).isNotEqualTo(first.id());
    dbm.getMetadata().setAnnotations(null);
    dbm.getMetadata().setGeneration(2L);
    assertThat(RunPlanner.decide(dbm))
        .as("a spec change is a new run")
        .isInstanceOf(Decision.Start.class);
  }

  @Test
  void aRunWhoseJobWasDeletedRunsAgainUnderANewIdAtMostThreeTimesInARow() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    dbm.setStatus(status);
    List<String> ids = new ArrayList<>();
    for (int lost = 0; lost < 3; lost++) {
      Decision decision = RunPlanner.decide(dbm);
      assertThat(decision).as("after %d lost Jobs", lost).isInstanceOf(Decision.Start.class);
      RunInputs run = ((Decision.Start) decision).run();
      assertThat(ids).doesNotContain(run.id());
      assertThat(run.jobName()).endsWith(run.id());
      ids.add(run.id());
      status.getHistory().add(0, lost(run.id()));
    }
    Decision fourth = RunPlanner.decide(dbm);
    assertThat(fourth).isInstanceOf(Decision.Start.class);
    status.getHistory().add(0, lost(((Decision.Start) fourth).run().id()));
    assertThat(RunPlanner.decide(dbm))
        .as("a fourth lost Job in a row waits for a person")
        .isInstanceOfSatisfying(
            Decision.AwaitingRetry.class,
            a -> assertThat(a.failedRun().getReason()).isEqualTo("JobDeleted"));
  }

  @Test
  void aFailedRunIsNotRunAgainByItself() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    dbm.setStatus(status);
    HistoryEntry failed = lost(((Decision.Start) RunPlanner.decide(dbm)).run().id());
    failed.setReason("MigrationFailed");
    status.getHistory().add(failed);
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.AwaitingRetry.class);
  }

  static HistoryEntry lost(String id) {
    HistoryEntry h = new HistoryEntry();
    h.setId(id);
    h.setOutcome(Outcome.Failed);
    h.setReason("JobDeleted");
    return h;
  }

  @Test
  void aRunOutsideThePolicyIsRefusedAndTheAppStaysHeld() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", "elsewhere.example.org/x:1", "3"));
    MigrationPolicy policy =
        new MigrationPolicy(List.of("registry.example.com/*"), false, List.of("default"), true);
    Decision decision = RunPlanner.decide(dbm, policy);
    assertThat(decision).isInstanceOf(Decision.Refused.class);
    Decision.Refused refused = (Decision.Refused) decision;
    assertThat(refused.reason()).isEqualTo(Reason.PolicyViolation);
    assertThat(refused.message())
        .startsWith(
            "spec.image elsewhere.example.org/x:1 is not allowed: the policy allows images matching"
                + " registry.example.com/*");
    assertThat(refused.databaseAtTarget()).as("the gated Deployments stay held").isFalse();
    dbm.getSpec().setImage(IMAGE_1);
    assertThat(RunPlanner.decide(dbm, policy)).isInstanceOf(Decision.Start.class);
  }

  @Test
  void aRetryRunsTheDigestThatRanAndItsIdDoesNotDependOnIt() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    RunInputs first = ((Decision.Start) RunPlanner.decide(dbm)).run();
    HistoryEntry failed = new HistoryEntry();
    failed.setId(first.id());
    failed.setDirection(Direction.UPGRADE);
    failed.setOutcome(Outcome.Failed);
    failed.setImage(IMAGE_1);
    failed.setRequestedImage(IMAGE_1);
    failed.setTargetRevision("3");
    String pinned = "registry.example.com/shop/orders-migrations@sha256:" + "c".repeat(64);
    failed.setPinnedImage(pinned);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setHistory(new ArrayList<>(List.of(failed)));
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm))
        .as("the same inputs: the failed run waits, whatever digest it recorded")
        .isInstanceOf(Decision.AwaitingRetry.class);

    dbm.getMetadata()
        .setAnnotations(new java.util.HashMap<>(java.util.Map.of(RunPlanner.RETRY, "1")));
    RunInputs retry = ((Decision.Start) RunPlanner.decide(dbm)).run();
    assertThat(retry.image()).isEqualTo(pinned);
    assertThat(retry.requestedImage()).isEqualTo(IMAGE_1);
    failed.setPinnedImage(null);
    assertThat(((Decision.Start) RunPlanner.decide(dbm)).run().id())
        .as("the id hashes the inputs, not the digest: one Job name for the retry")
        .isEqualTo(retry.id());

    failed.setPinnedImage(pinned);
    dbm.getSpec().setTargetRevision("4");
    assertThat(((Decision.Start) RunPlanner.decide(dbm)).run().image())
        .as("new inputs run the tag the spec names")
        .isEqualTo(IMAGE_1);
  }
}
