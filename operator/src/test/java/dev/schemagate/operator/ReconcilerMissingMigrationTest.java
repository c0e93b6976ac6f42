package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Phase;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/**
 * A pod template labelled with a DatabaseMigration that does not exist (never created, misspelt,
 * deleted, not applied yet): admission holds or admits its pods as the admin chose (the webhook's
 * and the policy's tests); the operator tells it on the Deployment and counts it (issue 26, item
 * 5). The test plays the Deployment controller: a ReplicaSet's pod, named as it names them.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilerMissingMigrationTest extends ReconcilerTestBase {
  @Inject MeterRegistry registry;

  /** A pod of the Deployment's ReplicaSet (hash 7d4b9), as the admission gate left it. */
  Pod appPod(Deployment d, String migration, boolean gated) {
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(d.getMetadata().getName() + "-7d4b9-" + (gated ? "g" : "r") + "x2x9")
            .withNamespace(ns)
            .addToLabels(PodRequirement.LABEL, migration)
            .addToLabels("pod-template-hash", "7d4b9")
            .addNewOwnerReference()
            .withApiVersion("apps/v1")
            .withKind("ReplicaSet")
            .withName(d.getMetadata().getName() + "-7d4b9")
            .withUid("rs-uid")
            .withController(true)
            .endOwnerReference()
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("app")
            .withImage("shop/orders-api:2")
            .endContainer()
            .endSpec();
    if (gated) {
      pod.editSpec()
          .addNewSchedulingGate()
          .withName(PodRequirement.GATE)
          .endSchedulingGate()
          .endSpec();
    }
    return client.pods().inNamespace(ns).resource(pod.build()).create();
  }

  Double missing(String migration, boolean gated) {
    Gauge gauge =
        registry
            .find("schemagate.missing.migration.pods")
            .tag("namespace", ns)
            .tag("migration", migration)
            .tag("gated", Boolean.toString(gated))
            .gauge();
    return gauge == null ? null : gauge.value();
  }

  @Test
  void podsNamingAMissingMigrationAreToldOnTheirDeploymentAndCountedUntilItExists() {
    Deployment d = cluster.createDeployment("orders-api", false);
    Pod held = appPod(d, "orders", true);

    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.events())
                    .filteredOn(e -> "MigrationNotFound".equals(e.getReason()))
                    .singleElement()
                    .satisfies(
                        e -> {
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getInvolvedObject().getKind()).isEqualTo("Deployment");
                          assertThat(e.getInvolvedObject().getName()).isEqualTo("orders-api");
                          assertThat(e.getMessage())
                              .contains(
                                  "pods of Deployment orders-api name DatabaseMigration orders",
                                  "does not exist in namespace " + ns,
                                  "wait at the scheduling gate",
                                  "gate.admission.missingMigration is Hold",
                                  "Create it, or remove the label");
                        }));
    eventually().untilAsserted(() -> assertThat(missing("orders", true)).isEqualTo(1.0));

    // it is created: the run goes, the pod leaves the gate, and no longer counts
    apply(migration(ns, "orders", IMAGE_1, "3"));
    eventually().untilAsserted(() -> assertThat(missing("orders", true)).isNull());
    cluster.succeed(awaitSingleJob(), result("", "3", "3"));
    awaitPhase("orders", Phase.Ready);
    eventually()
        .untilAsserted(
            () ->
                assertThat(
                        client
                            .pods()
                            .inNamespace(ns)
                            .withName(held.getMetadata().getName())
                            .get()
                            .getSpec()
                            .getSchedulingGates())
                    .isEmpty());
  }

  @Test
  void aPodThatRunsUngatedIsToldAsRunningWithoutWaiting() {
    Deployment d = cluster.createDeployment("billing-api", false);
    Pod running = appPod(d, "billng", false);

    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.events())
                    .extracting(Event::getMessage)
                    .anySatisfy(
                        m ->
                            assertThat(m)
                                .contains(
                                    "pods of Deployment billing-api name DatabaseMigration billng",
                                    "they run without waiting for any migration")));
    eventually().untilAsserted(() -> assertThat(missing("billng", false)).isEqualTo(1.0));

    // deleted (a pod never scheduled goes at once, with no deletion timestamp): no longer counted
    client.pods().inNamespace(ns).withName(running.getMetadata().getName()).delete();
    eventually().untilAsserted(() -> assertThat(missing("billng", false)).isNull());
  }
}
