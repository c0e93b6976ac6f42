package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.DowngradeSpec;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import org.junit.jupiter.api.Test;

/** The reconcile flows on the mock API server; the test plays the Job controller and kubelet. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerFlowTest extends ReconcilerTestBase {

  @Test
  void firstUpgradeHoldsRunsRecordsAndReleases() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));

    Job job = awaitSingleJob();
    assertThat(paused("orders-api")).as("held before the Job exists").isTrue();
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .containsEntry(HeldBy.KEY, "orders");
    awaitPhase("orders", Phase.Migrating);
    DatabaseMigration running = cluster.dbm("orders");
    assertThat(running.getStatus().getActiveRun().getJob()).isEqualTo(job.getMetadata().getName());
    assertThat(condition(running, Conditions.RECONCILING).getStatus()).isEqualTo("True");
    assertThat(condition(running, Conditions.ROLLOUT_HELD).getStatus()).isEqualTo("True");
    assertThat(running.getStatus().getHeldDeployments()).containsExactly("orders-api");

    cluster.succeed(job, result("", "3", "1", "2", "3"));

    awaitPhase("orders", Phase.Ready);
    DatabaseMigration ready = cluster.dbm("orders");
    assertThat(ready.getStatus().getCurrentRevision()).isEqualTo("3");
    assertThat(ready.getStatus().getCurrentImage()).isEqualTo(IMAGE_1);
    assertThat(ready.getStatus().getActiveRun()).isNull();
    assertThat(ready.getStatus().getHistory()).hasSize(1);
    var entry = ready.getStatus().getHistory().get(0);
    assertThat(entry.getOutcome()).isEqualTo(Outcome.Succeeded);
    assertThat(entry.getDirection()).isEqualTo(Direction.UPGRADE);
    assertThat(entry.getApplied()).extracting(a -> a.getRevision()).containsExactly("1", "2", "3");
    assertThat(entry.getJob()).isEqualTo(job.getMetadata().getName());
    assertThat(paused("orders-api")).isFalse();
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .doesNotContainKey(HeldBy.KEY);
    assertThat(condition(ready, Conditions.READY).getStatus()).isEqualTo("True");
    assertThat(condition(ready, Conditions.STALLED).getStatus()).isEqualTo("False");
    assertThat(condition(ready, Conditions.ROLLOUT_HELD).getStatus()).isEqualTo("False");
    assertThat(ready.getStatus().getObservedGeneration())
        .isEqualTo(ready.getMetadata().getGeneration());
    assertThat(ready.getStatus().getConditions())
        .allSatisfy(
            c ->
                assertThat(c.getObservedGeneration())
                    .isEqualTo(ready.getMetadata().getGeneration()));
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.eventReasons())
                    .containsExactlyInAnyOrder("RunStarted", "RunSucceeded"));
    assertThat(cluster.events())
        .anySatisfy(
            e ->
                assertThat(e.getReason() + ": " + e.getMessage())
                    .startsWith("RunStarted")
                    .contains("paused orders-api"));
    assertThat(cluster.events())
        .anySatisfy(
            e ->
                assertThat(e.getReason() + ": " + e.getMessage())
                    .startsWith("RunSucceeded")
                    .contains("resumed orders-api"));
    assertThat(cluster.jobs()).hasSize(1);
    eventually()
        .untilAsserted(
            () ->
                assertThat(
                        cluster.job(job.getMetadata().getName()).getMetadata().getOwnerReferences())
                    .as("a recorded run's Job goes with its DatabaseMigration")
                    .singleElement()
                    .satisfies(
                        o -> assertThat(o.getUid()).isEqualTo(ready.getMetadata().getUid())));
  }

  @Test
  void failureKeepsTheDeploymentHeldWithReasonAndMessage() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();

    cluster.fail(
        job,
        4,
        "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"1\",\"toRevision\":\"1\",\"applied\":[],"
            + "\"failedRevision\":\"2\",\"error\":\"MigrationFailed\",\"message\":\"ERROR: syntax error at or near \\\"CREAT\\\"\"}");

    awaitPhase("orders", Phase.Failed);
    DatabaseMigration failed = cluster.dbm("orders");
    Condition stalled = condition(failed, Conditions.STALLED);
    assertThat(stalled.getStatus()).isEqualTo("True");
    assertThat(stalled.getReason()).isEqualTo("MigrationFailed");
    assertThat(stalled.getMessage())
        .contains("revision 2 failed", "syntax error", "schemagate.dev/retry");
    assertThat(condition(failed, Conditions.READY).getStatus()).isEqualTo("False");
    assertThat(failed.getStatus().getHistory().get(0).getOutcome()).isEqualTo(Outcome.Failed);
    assertThat(failed.getStatus().getCurrentRevision()).isNull();
    assertThat(paused("orders-api")).as("app stays on its old version").isTrue();
    eventually().untilAsserted(() -> assertThat(cluster.eventReasons()).contains("RunFailed"));
    assertThat(cluster.jobs()).as("a failed run is not retried by itself").hasSize(1);
  }

  @Test
  void retryAnnotationStartsExactlyOneNewJob() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job first = awaitSingleJob();
    cluster.fail(first, 5, "{\"message\":\"database unreachable\"}");
    awaitPhase("orders", Phase.Failed);
    assertThat(condition(cluster.dbm("orders"), Conditions.STALLED).getReason())
        .isEqualTo("DatabaseUnreachable");

    edit(
        "orders",
        d -> {
          d.getMetadata().getAnnotations().put(RunPlanner.RETRY, "1");
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 2);
    Job second =
        cluster.jobs().stream()
            .filter(j -> !j.getMetadata().getName().equals(first.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    awaitPhase("orders", Phase.Migrating);
    cluster.succeed(second, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(2);
    assertThat(cluster.dbm("orders").getStatus().getHistory())
        .extracting(h -> h.getOutcome())
        .containsExactly(Outcome.Succeeded, Outcome.Failed);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void specChangeDuringARunWaitsForItThenRunsTheNewTarget() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job first = awaitSingleJob();
    cluster.podRunning(first);
    awaitPhase("orders", Phase.Migrating);

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          d.getSpec().setTargetRevision("5");
          return d;
        });
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.dbm("orders").getStatus().getObservedGeneration())
                    .isEqualTo(2L));
    assertThat(cluster.jobs()).as("a running migration is never interrupted").hasSize(1);

    cluster.succeed(first, result("", "3", "1", "2", "3"));
    eventually().until(() -> cluster.jobs().size() == 2);
    assertThat(paused("orders-api")).as("the database is at 3, not at the new target 5").isTrue();
    Job second = awaitJob("orders");
    assertThat(second.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(IMAGE_2);
    assertThat(second.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("migrate", "--target", "5");
    cluster.succeed(second, result("3", "5", "4", "5"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.dbm("orders").getStatus().getCurrentRevision()).isEqualTo("5");
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void downgradeIsForbiddenByDefaultAndRunsWithTheNewerImageWhenAllowed() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_2, "5", "orders-api"));
    cluster.succeed(awaitSingleJob(), result("", "5", "1", "2", "3", "4", "5"));
    awaitPhase("orders", Phase.Ready);

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_1);
          d.getSpec().setTargetRevision("3");
          return d;
        });
    awaitPhase("orders", Phase.Failed);
    DatabaseMigration refused = cluster.dbm("orders");
    assertThat(condition(refused, Conditions.STALLED).getReason()).isEqualTo("DowngradeForbidden");
    assertThat(condition(refused, Conditions.STALLED).getMessage())
        .contains("spec.downgrade.policy: Allow");
    assertThat(cluster.jobs()).as("no Job for a forbidden downgrade").hasSize(1);
    assertThat(paused("orders-api")).isTrue();
    eventually()
        .untilAsserted(() -> assertThat(cluster.eventReasons()).contains("DowngradeForbidden"));

    edit(
        "orders",
        d -> {
          DowngradeSpec downgrade = new DowngradeSpec();
          downgrade.setPolicy(DowngradePolicy.Allow);
          d.getSpec().setDowngrade(downgrade);
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 2);
    Job down = awaitJob("orders");
    assertThat(down.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .as("the newer image holds the down-migrations")
        .isEqualTo(IMAGE_2);
    assertThat(down.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("undo", "--target", "3");
    assertThat(down.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .anySatisfy(
            e ->
                assertThat(e.getName() + "=" + e.getValue())
                    .isEqualTo("SCHEMAGATE_DIRECTION=downgrade"));
    cluster.succeed(
        down,
        "{\"tool\":\"flyway\",\"direction\":\"downgrade\",\"fromRevision\":\"5\",\"toRevision\":\"3\",\"applied\":[{\"revision\":\"5\"},{\"revision\":\"4\"}]}");
    awaitPhase("orders", Phase.Ready);
    DatabaseMigration after = cluster.dbm("orders");
    assertThat(after.getStatus().getCurrentRevision()).isEqualTo("3");
    assertThat(after.getStatus().getHistory().get(0).getDirection()).isEqualTo(Direction.DOWNGRADE);
    assertThat(paused("orders-api")).isFalse();

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          d.getSpec().setTargetRevision("5");
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 3);
    Job up = awaitJob("orders");
    assertThat(up.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .as("back up after a downgrade is an upgrade")
        .containsExactly("migrate", "--target", "5");
  }
}
