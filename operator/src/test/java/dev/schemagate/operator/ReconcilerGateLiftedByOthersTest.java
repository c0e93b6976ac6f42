package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.GateLift;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 26, item 2: a scheduling gate someone else removes (an admin of a group the chart allows
 * to) while the revision the pod needs is not in place is recorded: a Warning Event naming the pod,
 * and status.gateLiftedByOthers. The gates the operator lifts itself are not.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerGateLiftedByOthersTest extends ReconcilerTestBase {

  void gatedPod(String name) {
    client
        .pods()
        .inNamespace(ns)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ns)
                .addToLabels(PodRequirement.LABEL, "orders")
                .addToAnnotations(PodRequirement.REQUIRES, "3")
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
  }

  List<String> events(String reason) {
    return cluster.events().stream()
        .filter(e -> reason.equals(e.getReason()))
        .map(e -> e.getType() + ": " + e.getMessage())
        .toList();
  }

  @Test
  void aGateRemovedByHandWhileTheMigrationRunsIsAWarningEventAndInStatus() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);
    gatedPod("orders-api-7d4b9-x2x9k");
    gatedPod("orders-api-7d4b9-q8m2c");
    eventually()
        .until(
            () ->
                cluster.dbm("orders").getStatus().getHeldPods().contains("orders-api-7d4b9-x2x9k"));

    // an admin takes the gate off one pod, as `kubectl patch --type=json` does
    client
        .pods()
        .inNamespace(ns)
        .withName("orders-api-7d4b9-x2x9k")
        .patch(
            PatchContext.of(PatchType.JSON),
            "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"}]");

    eventually()
        .untilAsserted(
            () ->
                assertThat(events("GateLiftedByOthers"))
                    .singleElement()
                    .asString()
                    .startsWith("Warning: ")
                    .contains(
                        "pod orders-api-7d4b9-x2x9k",
                        "removed by someone other than the operator while the migration was not"
                            + " Ready",
                        "revision 3 of DatabaseMigration orders is not in place"));
    DatabaseMigration seen = cluster.dbm("orders");
    GateLift lift = seen.getStatus().getGateLiftedByOthers();
    assertThat(lift).isNotNull();
    assertThat(lift.getPod()).isEqualTo("orders-api-7d4b9-x2x9k");
    assertThat(lift.getAt()).isNotBlank();
    assertThat(lift.getWaitedFor()).contains("revision 3");
    assertThat(seen.getStatus().getHeldPods()).containsExactly("orders-api-7d4b9-q8m2c");

    // the operator lifts the other once the run succeeded: not someone else's lift
    cluster.succeed(job, result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    eventually()
        .until(
            () ->
                client
                    .pods()
                    .inNamespace(ns)
                    .withName("orders-api-7d4b9-q8m2c")
                    .get()
                    .getSpec()
                    .getSchedulingGates()
                    .isEmpty());
    assertThat(events("GateLiftedByOthers")).hasSize(1);
    assertThat(cluster.dbm("orders").getStatus().getGateLiftedByOthers().getPod())
        .isEqualTo("orders-api-7d4b9-x2x9k");
  }
}
