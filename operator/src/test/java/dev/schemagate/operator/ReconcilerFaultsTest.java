package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Approval;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * Faults the mock API server can inject or play: a Job the API server refuses, conflicts on status
 * writes, a Job deleted mid-run, a result that reaches the cache late, the gate flipped by someone
 * else, and a DatabaseMigration deleted while its Job runs.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerFaultsTest extends ReconcilerTestBase {
  @KubernetesTestServer KubernetesServer server;

  String statusPath(String name) {
    return "/apis/schemagate.dev/v1alpha1/namespaces/"
        + ns
        + "/databasemigrations/"
        + name
        + "/status";
  }

  List<String> events(String reason) {
    return cluster.events().stream()
        .filter(e -> reason.equals(e.getReason()))
        .map(Event::getMessage)
        .toList();
  }

  @Test
  void aJobTheApiServerRefusesIsStatusAndAnEventAndStartsOnceTheCauseIsGone() {
    String refusal =
        "Job.batch \"orders-x\" is invalid: spec.template.metadata.labels: Invalid value:"
            + " \"shop orders\": a valid label must be an empty string or consist of"
            + " alphanumeric characters";
    server
        .expect()
        .post()
        .withPath("/apis/batch/v1/namespaces/" + ns + "/jobs")
        .andReturn(
            422,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(422)
                .withReason("Invalid")
                .withMessage(refusal)
                .build())
        .times(3);
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));

    awaitPhase("orders", Phase.Failed);
    DatabaseMigration refused = cluster.dbm("orders");
    assertThat(condition(refused, Conditions.STALLED).getReason()).isEqualTo("JobRejected");
    assertThat(condition(refused, Conditions.STALLED).getMessage())
        .contains("the API server refused Job", "(422)", "Invalid value: \"shop orders\"");
    assertThat(refused.getStatus().getActiveRun()).as("no Job, no run under way").isNull();
    assertThat(refused.getStatus().getHistory()).isEmpty();
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    eventually()
        .untilAsserted(
            () -> assertThat(events("JobRejected")).singleElement().asString().contains("(422)"));

    // the refusals run out, as when the cause is fixed: the retries, which never stop, start it
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(1);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aPlanJobTheApiServerRefusesIsStatusAndAnEventAndIsTriedAgainUntilItIsAccepted() {
    String refusal =
        "jobs \"orders-x\" is forbidden: exceeded quota: jobs, requested: count/jobs.batch=1,"
            + " used: count/jobs.batch=5, limited: count/jobs.batch=5";
    server
        .expect()
        .post()
        .withPath("/apis/batch/v1/namespaces/" + ns + "/jobs")
        .andReturn(
            403,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(403)
                .withReason("Forbidden")
                .withMessage(refusal)
                .build())
        .times(2);
    cluster.createDeployment("orders-api", false);
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3", "orders-api");
    dbm.getSpec().setApproval(Approval.Manual);
    apply(dbm);

    awaitPhase("orders", Phase.Failed);
    DatabaseMigration refused = cluster.dbm("orders");
    assertThat(condition(refused, Conditions.STALLED).getReason()).isEqualTo("JobRejected");
    assertThat(condition(refused, Conditions.STALLED).getMessage())
        .contains("the API server refused Job", "(403)", "exceeded quota");
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    eventually()
        .untilAsserted(
            () -> assertThat(events("JobRejected")).first().asString().contains("(403)"));

    // the quota is lifted: the retries make the plan Job, once
    Job plan = awaitSingleJob();
    assertThat(direction(plan)).isEqualTo("plan");
    awaitPhase("orders", Phase.Pending);
    assertThat(cluster.jobs()).hasSize(1);
  }

  @Test
  void conflictsOnStatusWritesNeitherLoseNorDuplicateARun() {
    server.expect().put().withPath(statusPath("orders")).andReturn(409, conflict()).times(2);
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);

    server.expect().put().withPath(statusPath("orders")).andReturn(409, conflict()).times(3);
    cluster.succeed(job, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(1);
    assertThat(cluster.dbm("orders").getStatus().getHistory())
        .singleElement()
        .satisfies(h -> assertThat(h.getApplied()).hasSize(3));
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aRunWhoseStatusWriteMetASpecEditIsRecordedFollowedAndKeptInHistory() {
    // the status write that records the first run's Job meets the edit below (409), as a GitOps
    // sync or a second kubectl apply right after the first would make it
    server.expect().put().withPath(statusPath("orders")).andReturn(409, conflict()).once();
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job first = awaitSingleJob();
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          d.getSpec().setTargetRevision("4");
          return d;
        });
    cluster.podRunning(first);
    // the first run is under way, though the spec changed before its record was written
    eventually()
        .until(
            () -> {
              DatabaseMigration now = cluster.dbm("orders");
              return now.getStatus() != null
                  && now.getStatus().getActiveRun() != null
                  && first.getMetadata().getName().equals(now.getStatus().getActiveRun().getJob());
            });
    assertThat(cluster.jobs()).as("no second run while the first one runs").hasSize(1);

    cluster.succeed(first, result("", "3", "1", "2", "3"));
    eventually().until(() -> cluster.jobs().size() == 2);
    Job second =
        cluster.jobs().stream()
            .filter(j -> !j.getMetadata().getName().equals(first.getMetadata().getName()))
            .findFirst()
            .orElseThrow();
    cluster.succeed(second, result("3", "4", "4"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.dbm("orders").getStatus().getHistory())
        .extracting(HistoryEntry::getJob, HistoryEntry::getToRevision)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(second.getMetadata().getName(), "4"),
            org.assertj.core.groups.Tuple.tuple(first.getMetadata().getName(), "3"));
    assertThat(cluster.jobs()).as("both runs keep their Jobs").hasSize(2);
    assertThat(paused("orders-api")).isFalse();
  }

  static io.fabric8.kubernetes.api.model.Status conflict() {
    return new StatusBuilder()
        .withStatus("Failure")
        .withCode(409)
        .withReason("Conflict")
        .withMessage(
            "Operation cannot be fulfilled on databasemigrations.schemagate.dev \"orders\": the"
                + " object has been modified; please apply your changes to the latest version")
        .build();
  }

  @Test
  void aJobDeletedMidRunIsRecordedOnceItsPodStoppedAndTheRunStartsAgainOnce() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job first = awaitSingleJob();
    cluster.podRunning(first);
    awaitPhase("orders", Phase.Migrating);

    cluster.deleteJob(first);
    eventually()
        .untilAsserted(
            () ->
                assertThat(condition(cluster.dbm("orders"), Conditions.RECONCILING).getMessage())
                    .contains("was deleted; waiting for its pod"));
    assertThat(cluster.jobs()).as("no second migration while the first one's pod runs").isEmpty();

    cluster.deletePod(first);
    eventually().until(() -> cluster.jobs().size() == 1);
    Job second = cluster.jobs().get(0);
    assertThat(second.getMetadata().getName()).isNotEqualTo(first.getMetadata().getName());
    // the Job is made before the status that records the lost run is written: wait for both
    eventually()
        .untilAsserted(() -> assertThat(cluster.dbm("orders").getStatus().getHistory()).hasSize(1));
    List<HistoryEntry> history = cluster.dbm("orders").getStatus().getHistory();
    assertThat(history)
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getOutcome())
                  .as("an unknown outcome is no success")
                  .isEqualTo(Outcome.Failed);
              assertThat(h.getReason()).isEqualTo("JobDeleted");
              assertThat(h.getMessage()).contains("outcome is unknown");
            });
    assertThat(paused("orders-api")).isTrue();
    eventually().untilAsserted(() -> assertThat(events("JobDeleted")).hasSize(1));

    cluster.succeed(second, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.dbm("orders").getStatus().getHistory())
        .extracting(HistoryEntry::getReason)
        .containsExactly("MigrationSucceeded", "JobDeleted");
    assertThat(cluster.jobs()).hasSize(1);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aFailedJobWhosePodResultArrivesLateIsRecordedWithItsExitCode() throws Exception {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    Set<String> reasons = ConcurrentHashMap.newKeySet();
    cluster.jobCondition(job, "Failed", "BackoffLimitExceeded");
    for (int i = 0; i < 10; i++) {
      DatabaseMigration now = cluster.dbm("orders");
      now.getStatus().getHistory().forEach(h -> reasons.add(h.getReason()));
      Thread.sleep(50);
    }
    cluster.podTerminated(job, 5, "{\"message\":\"connection to db.internal refused\"}");
    awaitPhase("orders", Phase.Failed);
    assertThat(reasons).as("nothing recorded before the pod's result").isEmpty();
    assertThat(cluster.dbm("orders").getStatus().getHistory())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.getReason()).isEqualTo("DatabaseUnreachable");
              assertThat(h.getMessage()).contains("exit code 5");
            });
  }

  @Test
  void aDeploymentResumedByHandWhileTheRunIsUnderWayIsPausedAgainAndTold() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    eventually().until(() -> paused("orders-api"));

    cluster.pauseByHand("orders-api", false);
    eventually().until(() -> paused("orders-api"));
    eventually()
        .untilAsserted(
            () ->
                assertThat(events("GateOverridden"))
                    .singleElement()
                    .asString()
                    .contains("orders-api was resumed", "held it again", "spec.gate.deployments"));

    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aDeploymentResumedByHandAfterAFailureStaysHeld() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    cluster.fail(awaitSingleJob(), 4, "{\"failedRevision\":\"2\",\"message\":\"syntax error\"}");
    awaitPhase("orders", Phase.Failed);

    cluster.pauseByHand("orders-api", false);
    eventually().until(() -> paused("orders-api"));
    eventually().untilAsserted(() -> assertThat(events("GateOverridden")).hasSize(1));
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .containsEntry(HeldBy.KEY, "orders");
    assertThat(cluster.dbm("orders").getStatus().getPhase()).isEqualTo(Phase.Failed);
  }

  @Test
  void aHeldByAnnotationRemovedByHandIsRestoredAndTheAppReleasedAfterSuccess() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    eventually()
        .until(() -> cluster.dbm("orders").getStatus().getHeldDeployments().contains("orders-api"));

    cluster.removeAnnotationByHand("orders-api", HeldBy.KEY);
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
                    .containsEntry(HeldBy.KEY, "orders"));
    eventually()
        .untilAsserted(
            () ->
                assertThat(events("GateOverridden"))
                    .singleElement()
                    .asString()
                    .contains("lost its schemagate.dev/held-by annotation"));

    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).as("not left paused as if a person had paused it").isFalse();
  }

  @Test
  void twoMigrationsGateOneDeploymentAndTheOneDeletedLetsGoOnlyOfItsOwnHold() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    apply(migration(ns, "billing", IMAGE_1, "7", "orders-api"));
    Job orders = awaitJob("orders");
    Job billing = awaitJob("billing");
    eventually()
        .until(
            () ->
                HeldBy.holders(cluster.deployment("orders-api"))
                    .equals(Set.of("orders", "billing")));

    client.resources(DatabaseMigration.class).inNamespace(ns).withName("orders").delete();
    cluster.succeed(orders, result("", "3", "3"));
    eventually().until(() -> cluster.dbm("orders") == null);
    assertThat(paused("orders-api")).as("billing still holds it").isTrue();
    assertThat(HeldBy.holders(cluster.deployment("orders-api"))).containsExactly("billing");

    cluster.succeed(billing, result("", "7", "7"));
    awaitPhase("billing", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .doesNotContainKey(HeldBy.KEY);
  }

  @Test
  void deletionWaitsForTheRunningJobThenReleasesTheApp() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    cluster.podRunning(job);
    eventually().until(() -> paused("orders-api"));
    assertThat(job.getMetadata().getOwnerReferences())
        .as("no cascading deletion can reach a running Job")
        .isNullOrEmpty();

    client.resources(DatabaseMigration.class).inNamespace(ns).withName("orders").delete();
    eventually()
        .untilAsserted(
            () ->
                assertThat(condition(cluster.dbm("orders"), Conditions.RECONCILING).getReason())
                    .isEqualTo("DeletionWaitsForRun"));
    assertThat(cluster.dbm("orders").getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(paused("orders-api")).as("not released onto a half-migrated schema").isTrue();
    assertThat(cluster.job(job.getMetadata().getName())).as("the migration goes on").isNotNull();
    eventually()
        .untilAsserted(
            () ->
                assertThat(events("DeletionWaitsForRun"))
                    .singleElement()
                    .asString()
                    .contains(job.getMetadata().getName(), "orders-api stay paused"));

    cluster.succeed(job, result("", "3", "3"));
    eventually().until(() -> cluster.dbm("orders") == null);
    assertThat(paused("orders-api")).isFalse();
    assertThat(cluster.deployment("orders-api").getMetadata().getAnnotations())
        .doesNotContainKey(HeldBy.KEY);
    eventually().until(() -> cluster.jobs().isEmpty());
  }

  @Test
  void deletionWaitsForThePodOfAJobDeletedMidRun() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    cluster.podRunning(job);
    awaitPhase("orders", Phase.Migrating);
    cluster.deleteJob(job);
    eventually()
        .untilAsserted(
            () ->
                assertThat(condition(cluster.dbm("orders"), Conditions.RECONCILING).getMessage())
                    .contains("was deleted; waiting for its pod"));

    client.resources(DatabaseMigration.class).inNamespace(ns).withName("orders").delete();
    eventually()
        .untilAsserted(
            () ->
                assertThat(condition(cluster.dbm("orders"), Conditions.RECONCILING).getReason())
                    .isEqualTo("DeletionWaitsForRun"));
    assertThat(paused("orders-api")).as("its pod may still be migrating").isTrue();

    cluster.deletePod(job);
    eventually().until(() -> cluster.dbm("orders") == null);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void deletionDoesNotWaitForAJobThatNeverStarted() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", "registry.example.com/shop/missing:9", "3", "orders-api"));
    Job job = awaitSingleJob();
    cluster.podWaiting(job, "ImagePullBackOff", "Back-off pulling image");
    awaitPhase("orders", Phase.Failed);

    client.resources(DatabaseMigration.class).inNamespace(ns).withName("orders").delete();
    eventually().until(() -> cluster.dbm("orders") == null);
    eventually().until(() -> cluster.jobs().isEmpty());
    assertThat(paused("orders-api")).isFalse();
  }
}
