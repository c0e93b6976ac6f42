package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A user who may create Jobs and pods in the namespace (the built-in edit role) copies the
 * operator's labels and annotations: nothing of it is recorded, nothing releases the app, and the
 * look-alike is named in a Warning Event (issue 26, item 1).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerForgedRunsTest extends ReconcilerTestBase {
  static final String EVIL = "evil.example.com/writes-a-result:1";
  static final String FORGED_RESULT = result("2", "7", "3", "4", "5", "6", "7");

  /**
   * A Job like the operator's, made by someone else: its labels and annotations (with a run id of
   * its own, so that no recorded run has it), another name.
   */
  Job lookAlike(Job real, String name, String image) {
    return lookAlike(real, name, image, "f0f0f0f0f0");
  }

  Job lookAlike(Job real, String name, String image, String runId) {
    Job forged =
        new JobBuilder(real)
            .editMetadata()
            .withName(name)
            .withUid(null)
            .withResourceVersion(null)
            .withCreationTimestamp(null)
            .withOwnerReferences(List.of())
            .endMetadata()
            .withStatus(null)
            .build();
    forged.getMetadata().getLabels().put("schemagate.dev/run-id", runId);
    forged.getMetadata().getAnnotations().put("schemagate.dev/run-id", runId);
    forged.getSpec().getTemplate().getMetadata().getLabels().put("schemagate.dev/run-id", runId);
    var container = forged.getSpec().getTemplate().getSpec().getContainers().get(0);
    container.setImage(image);
    container.setCommand(List.of("sh", "-c"));
    container.setArgs(List.of("echo '" + FORGED_RESULT + "' > /dev/termination-log"));
    return client.batch().v1().jobs().inNamespace(ns).resource(forged).create();
  }

  List<Event> events(String reason) {
    return cluster.events().stream().filter(e -> reason.equals(e.getReason())).toList();
  }

  @Test
  void aLookAlikeJobAfterAFailedRunIsNeverRecordedAndTheAppStaysHeld() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job real = awaitSingleJob();
    cluster.fail(real, 4, "{\"message\":\"relation app_user already exists\"}");
    awaitPhase("orders", Phase.Failed);

    Job forged = lookAlike(real, "orders-forged", EVIL);
    cluster.podRunning(forged);
    // the operator has seen it run: told it, or (as it did) adopted it
    eventually()
        .until(
            () -> !events("ForeignJob").isEmpty() || cluster.eventReasons().contains("JobAdopted"));
    cluster.succeed(forged, FORGED_RESULT);

    // the operator has looked at it: told it, or (as it did) adopted and recorded it
    eventually()
        .until(
            () ->
                !events("ForeignJob").isEmpty()
                    || cluster.dbm("orders").getStatus().getHistory().size() > 1);
    DatabaseMigration dbm = cluster.dbm("orders");
    assertThat(dbm.getStatus().getHistory())
        .as("only the real run")
        .singleElement()
        .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Failed));
    assertThat(dbm.getStatus().getCurrentRevision()).isNull();
    assertThat(dbm.getStatus().getCurrentImage()).isNull();
    assertThat(dbm.getStatus().getPhase()).isEqualTo(Phase.Failed);
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    assertThat(cluster.eventReasons()).doesNotContain("JobAdopted", "RunSucceeded");
    assertThat(cluster.job("orders-forged")).as("not the operator's to delete").isNotNull();
    assertThat(events("ForeignJob"))
        .anySatisfy(
            e ->
                assertThat(e.getMessage())
                    .contains(
                        "Job orders-forged",
                        "is not a Job the operator made",
                        "nothing it reports is recorded"));
  }

  @Test
  void aBarePodWithARunsLabelIsNotReadForTheRun() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job real = awaitSingleJob();
    cluster.podRunning(real);
    // a pod made by hand with the run's labels, claiming revision 7, newer than the Job's own
    Pod template =
        client.pods().inNamespace(ns).withName(real.getMetadata().getName() + "-pod").get();
    Pod bare =
        client
            .pods()
            .inNamespace(ns)
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(real.getMetadata().getName() + "-zzz")
                    .withNamespace(ns)
                    .withLabels(template.getMetadata().getLabels())
                    .withAnnotations(template.getMetadata().getAnnotations())
                    .endMetadata()
                    .withSpec(template.getSpec())
                    .build())
            .create();
    bare.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase("Succeeded")
            .withContainerStatuses(
                new ContainerStatusBuilder()
                    .withName("migrate")
                    .withNewState()
                    .withNewTerminated()
                    .withExitCode(0)
                    .withMessage(FORGED_RESULT)
                    .endTerminated()
                    .endState()
                    .build())
            .build());
    client.pods().inNamespace(ns).resource(bare).updateStatus();

    cluster.succeed(real, result("", "3", "1", "2", "3"));

    awaitPhase("orders", Phase.Ready);
    DatabaseMigration dbm = cluster.dbm("orders");
    assertThat(dbm.getStatus().getCurrentRevision()).isEqualTo("3");
    assertThat(dbm.getStatus().getAppliedRevisions()).doesNotContain("7");
    eventually()
        .untilAsserted(
            () ->
                assertThat(events("ForeignPod"))
                    .anySatisfy(
                        e ->
                            assertThat(e.getMessage())
                                .contains(bare.getMetadata().getName(), "does not control it")));
  }

  @Test
  void aJobReplacedUnderTheNameOfARunsJobIsNotThatRun() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", "registry.example.com/shop/unpullable:9", "3", "orders-api"));
    Job real = awaitSingleJob();
    cluster.podWaiting(real, "ImagePullBackOff", "Back-off pulling image");
    awaitPhase("orders", Phase.Failed);
    String name = real.getMetadata().getName();
    cluster.deleteJob(real);
    cluster.deletePod(real);
    eventually().until(() -> cluster.job(name) == null);
    Job forged =
        lookAlike(real, name, EVIL, real.getMetadata().getLabels().get("schemagate.dev/run-id"));
    cluster.succeed(forged, FORGED_RESULT);

    eventually()
        .untilAsserted(
            () -> assertThat(cluster.dbm("orders").getStatus().getHistory()).isNotEmpty());
    DatabaseMigration dbm = cluster.dbm("orders");
    assertThat(dbm.getStatus().getHistory())
        .allSatisfy(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Failed));
    assertThat(dbm.getStatus().getCurrentRevision()).isNull();
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    assertThat(cluster.eventReasons()).doesNotContain("RunSucceeded");
  }
}
