package dev.schemagate.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.PausePatch;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Deployment store keeps what the gate reads, and the gate decides the same from it. */
class DeploymentStoreTest {
  static Deployment full(Map<String, String> annotations, Boolean paused, String podMigration) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName("api")
        .withNamespace("shop")
        .withResourceVersion("42")
        .withUid("0e7c")
        .withAnnotations(annotations)
        .addToLabels("app", "api")
        .endMetadata()
        .withNewSpec()
        .withPaused(paused)
        .withReplicas(3)
        .withProgressDeadlineSeconds(120)
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", "api")
        .addToLabels(podMigration == null ? Map.of() : Map.of(PodRequirement.LABEL, podMigration))
        .addToAnnotations("prometheus.io/scrape", "true")
        .addToAnnotations(podMigration == null ? Map.of() : Map.of(PodRequirement.REQUIRES, "7"))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("api")
        .withImage("shop/api:2")
        .addNewEnv()
        .withName("LOG_LEVEL")
        .withValue("info")
        .endEnv()
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** The Deployment as the informer reads it from the API server's JSON. */
  static GateDeployment read(Deployment d) {
    return SERIALIZATION.unmarshal(SERIALIZATION.asJson(d), GateDeployment.class);
  }

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  @Test
  void readsPastWhatTheGateDoesNotRead() {
    Deployment d =
        full(
            Map.of(
                HeldBy.KEY,
                "orders",
                "kubectl.kubernetes.io/last-applied-configuration",
                "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"}"),
            true,
            "orders");
    d.getMetadata()
        .setManagedFields(
            List.of(
                new ManagedFieldsEntryBuilder()
                    .withManager("kubectl")
                    .withOperation("Update")
                    .withNewFieldsV1()
                    .addToAdditionalProperties("f:spec", Map.of("f:replicas", Map.of()))
                    .endFieldsV1()
                    .build()));
    d.setStatus(new DeploymentStatusBuilder().withReplicas(3).withReadyReplicas(3).build());

    GateDeployment read = read(d);

    assertThat(read.getKind()).isEqualTo("Deployment");
    assertThat(read.getMetadata().getName()).isEqualTo("api");
    assertThat(read.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(read.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(read.getMetadata().getAnnotations())
        .containsExactly(Map.entry(HeldBy.KEY, "orders"));
    assertThat(read.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(read.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(read.getMetadata().getAdditionalProperties()).isEmpty();
    assertThat(read.getSpec().getPaused()).isTrue();
    assertThat(read.getSpec().getProgressDeadlineSeconds()).isEqualTo(120);
    assertThat(read.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(PodRequirement.LABEL, "orders");
    assertThat(read.getSpec().getTemplate().getSpec()).isNull();
    assertThat(read.getSpec().getTemplate().getAdditionalProperties()).isEmpty();
    assertThat(read.getStatus().getReplicas())
        .as("the status is read: how far the rollout is")
        .isEqualTo(3);
    assertThat(read.getAdditionalProperties()).isEmpty();
  }

  @Test
  void ofOtherAnnotationsNoneIsRead() {
    GateDeployment read = read(full(Map.of("owner", "payments"), null, null));
    assertThat(read.getMetadata().getAnnotations()).isEmpty();
    assertThat(HeldBy.holders(read)).isEmpty();
    assertThat(read(full(null, null, null)).getMetadata().getAnnotations()).isNullOrEmpty();
  }

  @Test
  void keepsWhatTheGateReadsAndNothingElse() {
    DeploymentStore store = new DeploymentStore();
    GateDeployment d =
        read(full(Map.of(HeldBy.KEY, "orders", "owner", "payments"), true, "orders"));
    store.put(store.getKey(d), d);

    Deployment kept = store.get("shop/api");
    assertThat(kept.getMetadata().getName()).isEqualTo("api");
    assertThat(kept.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("42");
    assertThat(kept.getMetadata().getAnnotations())
        .containsExactly(Map.entry(HeldBy.KEY, "orders"));
    assertThat(HeldBy.holders(kept)).containsExactly("orders");
    assertThat(kept.getSpec().getPaused()).isTrue();
    assertThat(kept.getSpec().getProgressDeadlineSeconds()).isEqualTo(120);
    assertThat(kept.getSpec().getTemplate().getMetadata().getLabels())
        .containsExactly(Map.entry(PodRequirement.LABEL, "orders"));
    assertThat(kept.getSpec().getTemplate().getMetadata().getAnnotations())
        .as("the revision the template requires, for the contract part")
        .containsExactly(Map.entry(PodRequirement.REQUIRES, "7"));
    assertThat(kept.getSpec().getTemplate().getSpec()).isNull();
    assertThat(kept.getSpec().getReplicas()).as("the rollout's goal").isEqualTo(3);
    assertThat(kept.getMetadata().getLabels()).isEmpty();
    assertThat(kept.getStatus()).isNull();
  }

  @Test
  void keepsHowFarTheRolloutIsAndOfItsConditionsOnlyAPassedDeadline() {
    DeploymentStore store = new DeploymentStore();
    Deployment full = full(Map.of(HeldBy.KEY, "orders"), false, "orders");
    full.getMetadata().setGeneration(7L);
    full.setStatus(
        new DeploymentStatusBuilder()
            .withObservedGeneration(7L)
            .withReplicas(4)
            .withUpdatedReplicas(2)
            .withReadyReplicas(3)
            .withAvailableReplicas(3)
            .addNewCondition()
            .withType("Available")
            .withStatus("True")
            .withReason("MinimumReplicasAvailable")
            .withMessage("Deployment has minimum availability.")
            .endCondition()
            .addNewCondition()
            .withType("Progressing")
            .withStatus("False")
            .withReason("ProgressDeadlineExceeded")
            .withMessage("ReplicaSet \"api-7d9\" has timed out progressing.")
            .endCondition()
            .build());
    GateDeployment d = read(full);
    store.put(store.getKey(d), d);

    Deployment kept = store.get("shop/api");
    assertThat(kept.getMetadata().getGeneration()).isEqualTo(7L);
    assertThat(kept.getStatus().getObservedGeneration()).isEqualTo(7L);
    assertThat(kept.getStatus().getReplicas()).isEqualTo(4);
    assertThat(kept.getStatus().getUpdatedReplicas()).isEqualTo(2);
    assertThat(kept.getStatus().getAvailableReplicas()).isEqualTo(3);
    assertThat(kept.getStatus().getReadyReplicas()).isNull();
    assertThat(kept.getStatus().getConditions())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getType()).isEqualTo("Progressing");
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("ProgressDeadlineExceeded");
              assertThat(c.getMessage())
                  .isEqualTo("ReplicaSet \"api-7d9\" has timed out progressing.");
            });
    assertThat(d.getStatus().getConditions())
        .as("the informer's own copy keeps no more")
        .hasSize(1);
    assertThat(
            dev.schemagate.operator.gate.RolloutProgress.of(List.of("api"), n -> kept, List.of())
                .stuck())
        .containsExactly(
            "api: ProgressDeadlineExceeded after progressDeadlineSeconds 120 (ReplicaSet \"api-7d9\" has timed out progressing.)");
  }

  @Test
  void leavesOfTheInformersCopyOnlyWhatItKeeps() {
    DeploymentStore store = new DeploymentStore();
    GateDeployment d = read(full(Map.of(HeldBy.KEY, "orders", "owner", "payments"), true, null));
    store.put(store.getKey(d), d);

    assertThat(d.getSpec().getTemplate().getSpec()).isNull();
    assertThat(d.getSpec().getReplicas()).isEqualTo(3);
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(d.getMetadata().getAnnotations()).containsExactly(Map.entry(HeldBy.KEY, "orders"));
    assertThat(HeldBy.holders(d)).containsExactly("orders");
    assertThat(d.getMetadata().getResourceVersion()).isEqualTo("42");
  }

  @Test
  void givesBackThePreviousStateOnUpdateAndRemoval() {
    DeploymentStore store = new DeploymentStore();
    store.put("shop/api", read(full(null, null, null)));
    Deployment before = store.put("shop/api", read(full(Map.of(HeldBy.KEY, "orders"), true, null)));
    assertThat(before.getSpec().getPaused()).isNull();
    // read from JSON without annotations: the client's model makes an empty map of them
    assertThat(before.getMetadata().getAnnotations()).isEmpty();
    assertThat(before.getSpec().getProgressDeadlineSeconds()).isEqualTo(120);
    assertThat(store.size()).isEqualTo(1);
    assertThat(store.keySet()).containsExactly("shop/api");
    assertThat(store.values()).hasSize(1);
    assertThat(store.remove("shop/api").getSpec().getPaused()).isTrue();
    assertThat(store.get("shop/api")).isNull();
    assertThat(store.size()).isZero();
  }

  /**
   * The pause patch (a merge patch when no holder is listed, else a JSON Patch testing the held-by
   * annotation's value) is the same from the store's Deployment as from the full object.
   */
  @Test
  void thePausePatchIsTheSameFromTheStoreAsFromTheFullObject() {
    for (Map<String, String> annotations :
        List.of(
            Map.<String, String>of(),
            Map.of("owner", "payments"),
            Map.of(HeldBy.KEY, "billing", "owner", "payments"))) {
      Deployment d = full(annotations.isEmpty() ? null : annotations, false, null);
      PausePatch fromFull =
          RolloutGate.hold("orders", List.of("api"), List.of(), n -> d).patches().get(0);
      Deployment kept = DeploymentStore.trim(d);
      PausePatch fromStore =
          RolloutGate.hold("orders", List.of("api"), List.of(), n -> kept).patches().get(0);
      assertThat(fromStore.body()).as("annotations %s", annotations).isEqualTo(fromFull.body());
      assertThat(fromStore.merge()).as("annotations %s", annotations).isEqualTo(fromFull.merge());
      assertThat(fromStore.paused()).as("annotations %s", annotations).isEqualTo(fromFull.paused());
    }
  }

  @Test
  void aDeploymentWithoutProgressDeadlineKeepsNone() {
    Deployment d = full(null, null, null);
    d.getSpec().setProgressDeadlineSeconds(null);
    assertThat(DeploymentStore.trim(d).getSpec().getProgressDeadlineSeconds()).isNull();
  }
}
