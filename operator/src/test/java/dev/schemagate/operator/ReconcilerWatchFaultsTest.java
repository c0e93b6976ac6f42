package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A watch that misses the end of a run's Job (issue 26, item 8). The informers' caches are what the
 * reconcile reads, and a cache is only as current as its watch: a change the watch never brings
 * stays unseen until the informer lists again. Injected into the mock API server's watches ({@link
 * WatchFaults}): the Job's completion never told to the operator's watch of Jobs, and every watch
 * of Jobs and pods told 410 Gone after missing the end of the run.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerWatchFaultsTest extends ReconcilerTestBase {
  /** The run recorded this soon after the fault: seconds, not the hourly safety net. */
  private static final Duration CAUGHT_UP_WITHIN = Duration.ofSeconds(10);

  @KubernetesTestServer KubernetesServer server;
  @Inject Operator operator;
  WatchFaults watches;

  @BeforeEach
  void faults() {
    watches = new WatchFaults(server.getKubernetesMockServer());
  }

  /**
   * The Job's MODIFIED event (Complete) is lost; its pod's end is seen. Caught up by the reconcile:
   * a run whose pods have ended while the cache still shows its Job open reads that Job from the
   * API server, and looks again shortly after while they disagree.
   */
  @Test
  void aJobCompletionTheWatchNeverBringsIsReadFromTheApiServerAndTheRunRecorded() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitJob("orders");
    awaitPhase("orders", Phase.Migrating);

    cluster.podTerminated(job, 0, result("", "3", "1", "2", "3"));
    watches.unseen(Set.of("jobs"), () -> cluster.jobCondition(job, "Complete", null));
    long dropped = System.nanoTime();

    awaitRecorded("orders", job);
    System.out.printf(
        "a Job completion the watch missed: recorded %d ms after it%n",
        Duration.ofNanos(System.nanoTime() - dropped).toMillis());
    assertThat(cluster.jobs()).as("no second Job").hasSize(1);
    assertThat(paused("orders-api")).as("the app released").isFalse();
  }

  /**
   * The operator's watches of Jobs and pods miss the end of the run (both the pod's and the Job's
   * events), then are told 410 Gone, as when they resume from a resourceVersion the API server no
   * longer has. Caught up by the informers: each lists again and hands what changed to the
   * reconcile; the run is recorded once, and the relist makes no second Job.
   */
  @Test
  void aWatchToldGoneAfterMissingTheRunsEndListsAgainAndTheRunIsRecordedOnce() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitJob("orders");
    awaitPhase("orders", Phase.Migrating);

    watches.unseen(
        Set.of("jobs", "pods"),
        () -> {
          cluster.podTerminated(job, 0, result("", "3", "1", "2", "3"));
          cluster.jobCondition(job, "Complete", null);
        });
    assertThat(cluster.dbm("orders").getStatus().getPhase())
        .as("the run's end unseen")
        .isEqualTo(Phase.Migrating);
    long gone = System.nanoTime();
    assertThat(watches.gone(Set.of("jobs", "pods"))).as("watches told 410 Gone").isPositive();

    awaitRecorded("orders", job);
    System.out.printf(
        "watches told 410 Gone: run recorded %d ms after%n",
        Duration.ofNanos(System.nanoTime() - gone).toMillis());
    assertThat(cluster.jobs()).as("no second Job").hasSize(1);
    assertThat(cluster.eventReasons()).as("nothing adopted").doesNotContain("JobAdopted");
    assertThat(paused("orders-api")).as("the app released").isFalse();
    // the relist, not a read of the reconcile's, brought it: the informer's own store has it
    await()
        .atMost(CAUGHT_UP_WITHIN)
        .untilAsserted(
            () ->
                assertThat(
                        jobSource()
                            .list(ns, j -> j.getMetadata().getName().equals(name(job)))
                            .map(j -> j.getMetadata().getResourceVersion()))
                    .containsExactly(cluster.job(name(job)).getMetadata().getResourceVersion()));
  }

  private void awaitRecorded(String name, Job job) {
    await()
        .atMost(CAUGHT_UP_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> assertThat(cluster.dbm(name).getStatus().getPhase()).isEqualTo(Phase.Ready));
    DatabaseMigration ready = cluster.dbm(name);
    assertThat(ready.getStatus().getHistory())
        .singleElement()
        .satisfies(
            entry -> {
              assertThat(entry.getOutcome()).isEqualTo(Outcome.Succeeded);
              assertThat(entry.getJob()).isEqualTo(name(job));
            })
        .extracting(HistoryEntry::getToRevision)
        .isEqualTo("3");
    assertThat(ready.getStatus().getCurrentRevision()).isEqualTo("3");
    assertThat(ready.getStatus().getActiveRun()).isNull();
  }

  private static String name(Job job) {
    return job.getMetadata().getName();
  }

  @SuppressWarnings("unchecked")
  private InformerEventSource<Job, DatabaseMigration> jobSource() {
    Controller<DatabaseMigration> controller =
        (Controller<DatabaseMigration>)
            operator.getRegisteredController(DatabaseMigrationReconciler.NAME).orElseThrow();
    return (InformerEventSource<Job, DatabaseMigration>)
        controller.getEventSourceManager().getEventSourceFor(Job.class, "jobs");
  }
}
