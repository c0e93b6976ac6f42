package dev.schemagate.operator.kube;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.operator.gate.MissingMigration;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdmissionWebhookTest {
  final KubernetesSerialization json = new KubernetesSerialization();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  static Pod pod(String requires) {
    return new PodBuilder()
        .withNewMetadata()
        .withGenerateName("orders-api-")
        .addToLabels(PodRequirement.LABEL, "orders")
        .addToAnnotations(PodRequirement.REQUIRES, requires)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("api")
        .withImage("shop/orders-api:2")
        .endContainer()
        .endSpec()
        .build();
  }

  static DatabaseMigration atRevision(String... applied) {
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setCurrentRevision(applied[applied.length - 1]);
    status.setAppliedRevisions(List.of(applied));
    dbm.setStatus(status);
    return dbm;
  }

  AdmissionReview review(Pod pod, DatabaseMigration dbm) {
    return review(pod, dbm, MissingMigration.Hold);
  }

  AdmissionReview review(Pod pod, DatabaseMigration dbm, MissingMigration missing) {
    AdmissionRequest request = new AdmissionRequest();
    request.setUid("u-1");
    request.setNamespace("shop");
    request.setObject(pod);
    AdmissionWebhook webhook =
        new AdmissionWebhook((ns, name) -> dbm, GateMode.Admission, missing, json, registry);
    // the review goes through JSON both ways, as it does on the wire
    AdmissionRequest wire = json.unmarshal(json.asJson(request), AdmissionRequest.class);
    return webhook.review(wire);
  }

  @Test
  void aPodWhoseRevisionIsNotInPlaceGetsTheGateAndIsAllowed() {
    AdmissionReview answer = review(pod("3"), atRevision("1", "2"));
    assertThat(answer.getResponse().getUid()).isEqualTo("u-1");
    assertThat(answer.getResponse().getAllowed()).isTrue();
    assertThat(answer.getResponse().getPatchType()).isEqualTo("JSONPatch");
    assertThat(
            new String(
                Base64.getDecoder().decode(answer.getResponse().getPatch()),
                StandardCharsets.UTF_8))
        .isEqualTo(
            "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates\",\"value\":[{\"name\":\"schemagate.dev/migration\"}]}]");
  }

  @Test
  void aPodWhoseRevisionIsInPlaceGoesAheadUntouched() {
    AdmissionReview answer = review(pod("2"), atRevision("1", "2"));
    assertThat(answer.getResponse().getAllowed()).isTrue();
    assertThat(answer.getResponse().getPatch()).isNull();
  }

  /** The same as the chart's policy does, by the admin's gate.admission.missingMigration. */
  @Test
  void aPodNamingAMissingMigrationWaitsOrGoesAsTheAdminChose() {
    AdmissionReview held = review(pod(""), null, MissingMigration.Hold);
    assertThat(held.getResponse().getAllowed()).isTrue();
    assertThat(
            new String(
                Base64.getDecoder().decode(held.getResponse().getPatch()), StandardCharsets.UTF_8))
        .contains("schemagate.dev/migration");
    AdmissionReview admitted = review(pod(""), null, MissingMigration.Admit);
    assertThat(admitted.getResponse().getAllowed()).isTrue();
    assertThat(admitted.getResponse().getPatch()).as("no gate").isNull();
  }

  @Test
  void otherGatesAreKept() {
    Pod pod = pod("3");
    pod.getSpec()
        .setSchedulingGates(
            List.of(new io.fabric8.kubernetes.api.model.PodSchedulingGate("example.com/quota")));
    AdmissionReview answer = review(pod, atRevision("1"));
    assertThat(
            new String(
                Base64.getDecoder().decode(answer.getResponse().getPatch()),
                StandardCharsets.UTF_8))
        .isEqualTo(
            "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates/-\",\"value\":{\"name\":\"schemagate.dev/migration\"}}]");
  }
}
