package dev.schemagate.operator;

import static dev.schemagate.operator.ApprovalReconcilerTest.planResult;
import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.Approval;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Every write the API server refuses (an admission policy or webhook, RBAC, a quota) is told: a
 * condition with the write's reason and the API server's message, a Warning Event, a backoff, and
 * the write made once the refusal stops (issue 26, item 4). The refusals are injected into the mock
 * API server, as a ValidatingAdmissionPolicy would answer them.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerRefusedWritesTest extends ReconcilerTestBase {
  @KubernetesTestServer KubernetesServer server;

  static Status forbidden(String message) {
    return new StatusBuilder()
        .withStatus("Failure")
        .withCode(403)
        .withReason("Forbidden")
        .withMessage(message)
        .build();
  }

  List<String> events(String reason) {
    return cluster.events().stream()
        .filter(e -> reason.equals(e.getReason()))
        .map(e -> e.getType() + ": " + e.getMessage())
        .toList();
  }

  void awaitStalled(String reason, String... says) {
    eventually()
        .untilAsserted(
            () -> {
              DatabaseMigration dbm = cluster.dbm("orders");
              assertThat(dbm.getStatus()).isNotNull();
              assertThat(condition(dbm, Conditions.STALLED).getReason()).isEqualTo(reason);
              assertThat(condition(dbm, Conditions.STALLED).getMessage()).contains(says);
            });
  }

  @Test
  void aHoldTheApiServerRefusesIsGateRejectedAndNoMigrationStartsUntilItIsAccepted() {
    String policy =
        "deployments.apps \"orders-api\" is forbidden: ValidatingAdmissionPolicy"
            + " 'freeze-deployments' denied request: deployments are frozen";
    cluster.createDeployment("orders-api", false);
    server
        .expect()
        .patch()
        .withPath(
            "/apis/apps/v1/namespaces/" + ns + "/deployments/orders-api?fieldManager=schemagate")
        .andReturn(403, forbidden(policy))
        .times(2);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));

    awaitStalled("GateRejected", "Deployment orders-api", "403", "deployments are frozen");
    DatabaseMigration refused = cluster.dbm("orders");
    assertThat(refused.getStatus().getPhase()).isEqualTo(Phase.Failed);
    assertThat(condition(refused, Conditions.STALLED).getMessage())
        .contains("the migration does not start (the hold always comes first)");
    assertThat(refused.getStatus().getHeldDeployments()).as("it is not held").isEmpty();
    assertThat(refused.getStatus().getActiveRun()).isNull();
    assertThat(cluster.jobs()).as("no Job before the hold").isEmpty();
    eventually()
        .untilAsserted(
            () ->
                assertThat(events("GateRejected"))
                    .singleElement()
                    .asString()
                    .startsWith("Warning: ")
                    .contains("deployments are frozen"));

    // the policy is lifted: the backoff holds the app, then starts the one Job
    Job job = awaitSingleJob();
    assertThat(paused("orders-api")).isTrue();
    awaitPhase("orders", Phase.Migrating);
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).hasSize(1);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aReleaseTheApiServerRefusesKeepsTheAppPausedAndToldUntilItIsAccepted() {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    eventually().until(() -> paused("orders-api"));
    server
        .expect()
        .patch()
        .withPath(
            "/apis/apps/v1/namespaces/" + ns + "/deployments/orders-api?fieldManager=schemagate")
        .andReturn(403, forbidden("admission webhook \"policy.example.com\" denied the request"))
        .times(2);

    cluster.succeed(job, result("", "3", "3"));

    awaitStalled("GateRejected", "resume Deployment orders-api", "denied the request", "paused");
    assertThat(cluster.dbm("orders").getStatus().getHeldDeployments())
        .containsExactly("orders-api");
    assertThat(cluster.dbm("orders").getStatus().getCurrentRevision())
        .as("the run is recorded all the same")
        .isEqualTo("3");
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
    assertThat(events("GateRejected")).hasSize(1);
  }

  @Test
  void aPodGateTheApiServerRefusesToLiftIsPodGateRejectedUntilItIsAccepted() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    client
        .pods()
        .inNamespace(ns)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("orders-api-7d4b9-x2x9k")
                .withNamespace(ns)
                .addToLabels(PodRequirement.LABEL, "orders")
                .endMetadata()
                .withNewSpec()
                .addNewSchedulingGate()
                .withName(PodRequirement.GATE)
                .endSchedulingGate()
                .addNewContainer()
                .withName("app")
                .withImage("shop/orders-api:2")
                .endContainer()
                .endSpec()
                .build())
        .create();
    server
        .expect()
        .patch()
        .withPath("/api/v1/namespaces/" + ns + "/pods/orders-api-7d4b9-x2x9k")
        .andReturn(
            403,
            forbidden(
                "pods \"orders-api-7d4b9-x2x9k\" is forbidden: User"
                    + " \"system:serviceaccount:schemagate-system:schemagate\" cannot patch"
                    + " resource \"pods\""))
        .times(2);

    cluster.succeed(job, result("", "3", "3"));

    awaitStalled("PodGateRejected", "Pod orders-api-7d4b9-x2x9k", "cannot patch", "waits");
    eventually()
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .pods()
                            .inNamespace(ns)
                            .withName("orders-api-7d4b9-x2x9k")
                            .get()
                            .getSpec()
                            .getSchedulingGates())
                    .as("lifted once the API server accepts it")
                    .isEmpty());
    awaitPhase("orders", Phase.Ready);
    assertThat(events("PodGateRejected")).hasSize(1);
  }

  @Test
  void aPlanConfigMapTheApiServerRefusesIsPlanRejectedAndWrittenOnceAccepted() throws Exception {
    cluster.createDeployment("orders-api", false);
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3", "orders-api");
    dbm.getSpec().setApproval(Approval.Manual);
    apply(dbm);
    Job plan = awaitSingleJob();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/" + ns + "/configmaps")
        .andReturn(403, forbidden("exceeded quota: count/configmaps=10"))
        .times(2);

    cluster.succeed(plan, planResult("", "3", "0123456789abcdef", "CREATE TABLE t (id int);", "3"));

    awaitStalled("PlanRejected", "ConfigMap orders-plan", "exceeded quota", "not shown");
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    awaitPhase("orders", Phase.AwaitingApproval);
    assertThat(client.configMaps().inNamespace(ns).withName("orders-plan").get().getData())
        .containsEntry("plan.sql", "CREATE TABLE t (id int);");
    assertThat(cluster.jobs()).as("the plan Job is not made again").hasSize(1);
    assertThat(events("PlanRejected")).hasSize(1);
  }

  /**
   * A ConfigMap of the plan's name that is someone else's (no owner, or another owner) is never
   * written over nor given the DatabaseMigration as its owner: the write tests the owner reference
   * first, which the API server answers with a failed test (as injected here: the mock server does
   * not answer a failed test), PlanRejected names that ConfigMap, and the plan is written once it
   * is gone.
   */
  @Test
  void aPlanConfigMapNameSomeoneElseTookIsPlanRejectedAndNeverTakenOver() throws Exception {
    client
        .configMaps()
        .inNamespace(ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("orders-plan")
                .endMetadata()
                .addToData("plan.sql", "theirs")
                .build())
        .create();
    cluster.createDeployment("orders-api", false);
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3", "orders-api");
    dbm.getSpec().setApproval(Approval.Manual);
    apply(dbm);
    Job plan = awaitSingleJob();
    server
        .expect()
        .patch()
        .withPath("/api/v1/namespaces/" + ns + "/configmaps/orders-plan?fieldManager=schemagate")
        .andReturn(
            422,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(422)
                .withReason("Invalid")
                .withMessage("testing value /metadata/ownerReferences/0/uid failed: test failed")
                .build())
        .always();

    cluster.succeed(plan, planResult("", "3", "0123456789abcdef", "CREATE TABLE t (id int);", "3"));

    awaitStalled(
        "PlanRejected",
        "ConfigMap orders-plan exists and is not this DatabaseMigration's",
        "does not write over it",
        "rename or delete that ConfigMap");
    ConfigMap theirs = client.configMaps().inNamespace(ns).withName("orders-plan").get();
    assertThat(theirs.getData()).containsExactly(Map.entry("plan.sql", "theirs"));
    assertThat(theirs.getMetadata().getOwnerReferences()).as("not taken over").isEmpty();
    assertThat(paused("orders-api")).as("the app stays held").isTrue();
    assertThat(events("PlanRejected")).singleElement().asString().startsWith("Warning: ");
    List<String> patches = new ArrayList<>();
    var mock = server.getKubernetesMockServer();
    for (int i = mock.getRequestCount(); i > 0; i--) {
      RecordedRequest r = mock.takeRequest(100, TimeUnit.MILLISECONDS);
      if (r == null) {
        break;
      }
      if ("PATCH".equals(r.getMethod()) && r.getPath().contains("/configmaps/orders-plan")) {
        patches.add(r.getUtf8Body());
      }
    }
    assertThat(patches)
        .as("every write over it first tests that it is this DatabaseMigration's")
        .isNotEmpty()
        .allSatisfy(
            body ->
                assertThat(new ObjectMapper().readTree(body).get(0))
                    .isEqualTo(
                        new ObjectMapper()
                            .createObjectNode()
                            .put("op", "test")
                            .put("path", "/metadata/ownerReferences/0/uid")
                            .put("value", cluster.dbm("orders").getMetadata().getUid())));

    client.configMaps().inNamespace(ns).withName("orders-plan").delete();
    awaitPhase("orders", Phase.AwaitingApproval);
    assertThat(client.configMaps().inNamespace(ns).withName("orders-plan").get().getData())
        .containsEntry("plan.sql", "CREATE TABLE t (id int);");
  }

  @Test
  void aStatusTheApiServerRefusesIsAWarningEventAndWrittenOnceAccepted() {
    server
        .expect()
        .put()
        .withPath(
            "/apis/schemagate.dev/v1alpha1/namespaces/" + ns + "/databasemigrations/orders/status")
        .andReturn(
            422,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(422)
                .withReason("Invalid")
                .withMessage(
                    "DatabaseMigration.schemagate.dev \"orders\" is invalid: status: Too long: may"
                        + " not be longer than 1048576")
                .build())
        .times(2);
    apply(migration(ns, "orders", IMAGE_1, "3"));

    eventually()
        .untilAsserted(
            () ->
                assertThat(events("StatusRejected"))
                    .first()
                    .asString()
                    .startsWith("Warning: ")
                    .contains("refused the status", "(422)", "Too long"));
    Job job = awaitJob("orders");
    assertThat(cluster.jobs()).as("one Job, adopted after the lost status write").hasSize(1);
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.dbm("orders").getStatus().getHistory()).hasSize(1);
  }
}
