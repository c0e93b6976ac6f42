package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerEdgeTest extends ReconcilerTestBase {

  @Test
  void restartedOperatorAdoptsTheJobItCreatedAndMakesNoSecond() {
    // What a new operator process sees after the old one created the Job and stopped before it
    // wrote status: the Job under its deterministic name, and a resource with no status.
    DatabaseMigration dbm = apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job first = awaitSingleJob();
    String name = first.getMetadata().getName();
    DatabaseMigration fresh = cluster.dbm("orders");
    fresh.setStatus(null);
    client.resources(DatabaseMigration.class).inNamespace(ns).resource(fresh).updateStatus();
    RunInputs same = ((Decision.Start) RunPlanner.decide(fresh)).run();
    assertThat(same.jobName()).as("the name is a function of the inputs").isEqualTo(name);

    awaitJob("orders");
    cluster.podRunning(first);
    cluster.succeed(first, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(1);
    assertThat(cluster.dbm("orders").getStatus().getHistory()).hasSize(1);
    assertThat(dbm.getMetadata().getName()).isEqualTo("orders");
  }

  @Test
  void orphanJobFromAnOlderGenerationIsAdoptedNotDuplicated() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job first = awaitSingleJob();
    cluster.podRunning(first);
    // The status write is lost and the spec changes before the operator looks again.
    DatabaseMigration fresh = cluster.dbm("orders");
    fresh.setStatus(null);
    client.resources(DatabaseMigration.class).inNamespace(ns).resource(fresh).updateStatus();
    edit(
        "orders",
        d -> {
          d.getSpec().setTargetRevision("4");
          return d;
        });
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.dbm("orders").getStatus().getActiveRun())
                    .isNotNull()
                    .extracting(r -> r.getJob())
                    .isEqualTo(first.getMetadata().getName()));
    assertThat(cluster.jobs()).as("the running Job is adopted, not doubled").hasSize(1);
    cluster.succeed(first, result("", "3", "1", "2", "3"));
    eventually().until(() -> cluster.jobs().size() == 2);
    Job second = awaitJob("orders");
    assertThat(second.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .containsExactly("migrate", "--target", "4");
  }

  @Test
  void aDeploymentPausedByAPersonIsNeverResumed() {
    cluster.createDeployment("orders-api", true);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(condition(cluster.dbm("orders"), Conditions.ROLLOUT_HELD).getMessage())
        .contains("paused by someone else", "orders-api");
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).as("a person paused it; it stays paused").isTrue();
  }

  @Test
  void aDeploymentCreatedAfterTheRunStartedIsHeld() {
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    cluster.createDeployment("orders-api", false);
    eventually().until(() -> paused("orders-api"));
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.dbm("orders").getStatus().getHeldDeployments())
                    .containsExactly("orders-api"));
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.events())
                    .anySatisfy(
                        e ->
                            assertThat(e.getReason() + ": " + e.getMessage())
                                .isEqualTo(
                                    "RolloutHeld: paused orders-api until the database reaches 3")));
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void suspendStartsNothingAndHoldsWhileTheDatabaseIsBehind() {
    cluster.createDeployment("orders-api", false);
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3", "orders-api");
    dbm.getSpec().setSuspend(true);
    apply(dbm);
    awaitPhase("orders", Phase.Suspended);
    assertThat(cluster.jobs()).isEmpty();
    assertThat(paused("orders-api")).isTrue();
    assertThat(condition(cluster.dbm("orders"), Conditions.READY).getReason())
        .isEqualTo("Suspended");

    edit(
        "orders",
        d -> {
          d.getSpec().setSuspend(false);
          return d;
        });
    cluster.succeed(awaitSingleJob(), result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void historyIsCappedAtHistoryLimitAndOldJobsGo() {
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "1");
    dbm.getSpec().setHistoryLimit(2);
    apply(dbm);
    for (int target = 1; target <= 4; target++) {
      final String revision = Integer.toString(target);
      if (target > 1) {
        edit(
            "orders",
            d -> {
              d.getSpec().setTargetRevision(revision);
              return d;
            });
      }
      Job job = awaitJob("orders");
      eventually()
          .until(
              () ->
                  cluster
                      .dbm("orders")
                      .getStatus()
                      .getActiveRun()
                      .getTargetRevision()
                      .equals(revision));
      Job current = cluster.job(cluster.dbm("orders").getStatus().getActiveRun().getJob());
      cluster.succeed(current, result(Integer.toString(target - 1), revision, revision));
      eventually()
          .until(() -> revision.equals(cluster.dbm("orders").getStatus().getCurrentRevision()));
      assertThat(job).isNotNull();
    }
    DatabaseMigration after = cluster.dbm("orders");
    assertThat(after.getStatus().getHistory())
        .extracting(h -> h.getToRevision())
        .containsExactly("4", "3");
    eventually().untilAsserted(() -> assertThat(cluster.jobs()).hasSize(2));
  }

  @Test
  void aNameOf63CharactersOrMoreGivesValidJobNamesAndLabels() {
    String longName = "orders-" + "x".repeat(90) + "-migration";
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, longName, IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    assertThat(job.getMetadata().getName())
        .hasSizeLessThanOrEqualTo(63)
        .matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    assertThat(job.getMetadata().getLabels().values())
        .allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(63));
    assertThat(job.getSpec().getTemplate().getMetadata().getLabels().values())
        .allSatisfy(v -> assertThat(v).hasSizeLessThanOrEqualTo(63));
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .containsEntry(HeldBy.KEY, longName);
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase(longName, Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void imagePullFailureIsSurfacedWhileTheJobIsActiveAndASpecFixReplacesTheJob() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", "registry.example.com/shop/missing:9", "3", "orders-api"));
    Job job = awaitSingleJob();
    cluster.podWaiting(
        job, "ImagePullBackOff", "Back-off pulling image \"registry.example.com/shop/missing:9\"");
    awaitPhase("orders", Phase.Failed);
    DatabaseMigration blocked = cluster.dbm("orders");
    assertThat(condition(blocked, Conditions.STALLED).getReason()).isEqualTo("ImagePullFailed");
    assertThat(condition(blocked, Conditions.STALLED).getMessage())
        .contains("missing:9", "spec.image");
    assertThat(blocked.getStatus().getActiveRun()).as("the Job is still active").isNotNull();
    assertThat(paused("orders-api")).isTrue();
    eventually()
        .untilAsserted(() -> assertThat(cluster.eventReasons()).contains("ImagePullFailed"));

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_1);
          return d;
        });
    eventually().until(() -> cluster.job(job.getMetadata().getName()) == null);
    Job fixed = awaitJob("orders");
    assertThat(fixed.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(IMAGE_1);
    assertThat(cluster.dbm("orders").getStatus().getHistory().get(0).getReason())
        .isEqualTo("ImagePullFailed");
  }

  @Test
  void missingSecretIsSurfacedAndTheRunGoesOnOnceItExists() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    cluster.podWaiting(job, "CreateContainerConfigError", "secret \"orders-db\" not found");
    awaitPhase("orders", Phase.Failed);
    DatabaseMigration blocked = cluster.dbm("orders");
    assertThat(condition(blocked, Conditions.STALLED).getReason()).isEqualTo("SecretNotFound");
    assertThat(condition(blocked, Conditions.STALLED).getMessage())
        .contains("secret \"orders-db\" not found");

    cluster.podRunning(job);
    awaitPhase("orders", Phase.Migrating);
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(1);
  }

  @Test
  void aSentinelPasswordInTheTerminationMessageNeverReachesStatusOrEvents() {
    String sentinel = "S3ntinel-" + ns;
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    cluster.fail(
        job,
        1,
        "FATAL: password authentication failed for user \"app\"\n"
            + "connecting to postgresql://app:"
            + sentinel
            + "@db.internal:5432/orders failed; password="
            + sentinel);
    awaitPhase("orders", Phase.Failed);
    eventually().untilAsserted(() -> assertThat(cluster.eventReasons()).contains("RunFailed"));
    String status = client.getKubernetesSerialization().asJson(cluster.dbm("orders").getStatus());
    assertThat(status).contains("password authentication failed").doesNotContain(sentinel);
    for (Event event : cluster.events()) {
      assertThat(event.getMessage()).doesNotContain(sentinel);
    }
  }

  @Test
  void invalidGateNameIsRefusedWithTheFieldAndTheFix() {
    apply(migration(ns, "orders", IMAGE_1, "3", "Orders_API"));
    awaitPhase("orders", Phase.Failed);
    DatabaseMigration refused = cluster.dbm("orders");
    assertThat(condition(refused, Conditions.STALLED).getReason()).isEqualTo("InvalidSpec");
    assertThat(condition(refused, Conditions.STALLED).getMessage())
        .contains("spec.gate.deployments[0]", "Orders_API");
    assertThat(cluster.jobs()).isEmpty();
  }

  @Test
  void deadlineExceededIsItsOwnReasonAndTheAppStaysHeld() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
    cluster.podTerminated(job, 137, "");
    cluster.jobCondition(job, "Failed", "DeadlineExceeded");
    awaitPhase("orders", Phase.Failed);
    assertThat(condition(cluster.dbm("orders"), Conditions.STALLED).getReason())
        .isEqualTo("DeadlineExceeded");
    assertThat(paused("orders-api")).isTrue();
  }

  @Test
  void conditionsKeepTheirTransitionTimeWhileTheirStatusHolds() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    String readySince = condition(cluster.dbm("orders"), Conditions.READY).getLastTransitionTime();
    cluster.podRunning(job);
    edit(
        "orders",
        d -> {
          d.getSpec().setHistoryLimit(5);
          return d;
        });
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.dbm("orders").getStatus().getObservedGeneration())
                    .isEqualTo(2L));
    DatabaseMigration later = cluster.dbm("orders");
    assertThat(condition(later, Conditions.READY).getLastTransitionTime()).isEqualTo(readySince);
    assertThat(later.getStatus().getConditions())
        .allSatisfy(c -> assertThat(c.getObservedGeneration()).isEqualTo(2L));
    assertThat(later.getStatus().getConditions())
        .extracting(c -> c.getType())
        .containsExactly(
            Conditions.READY, Conditions.RECONCILING, Conditions.STALLED, Conditions.ROLLOUT_HELD);
  }
}
