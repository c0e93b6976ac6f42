package dev.schemagate.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The ReplicaSets woken once a replica of the webhook serves: only those of gated workloads whose
 * pods were refused (fewer pods than wanted, ReplicaFailure), only by their annotation.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class ReplicaSetNudgeTest {
  KubernetesClient client;

  static ReplicaSet replicaSet(
      String ns, String name, boolean labelled, int wanted, int has, boolean failure) {
    ReplicaSetBuilder rs =
        new ReplicaSetBuilder()
            .withNewMetadata()
            .withNamespace(ns)
            .withName(name)
            .addToLabels("app", name)
            .endMetadata()
            .withNewSpec()
            .withReplicas(wanted)
            .withNewSelector()
            .addToMatchLabels("app", name)
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .addToLabels("app", name)
            .endMetadata()
            .endTemplate()
            .endSpec()
            .withNewStatus()
            .withReplicas(has)
            .endStatus();
    if (labelled) {
      rs.editMetadata()
          .addToLabels("schemagate.dev/migration", "orders")
          .endMetadata()
          .editSpec()
          .editTemplate()
          .editMetadata()
          .addToLabels("schemagate.dev/migration", "orders")
          .endMetadata()
          .endTemplate()
          .endSpec();
    }
    if (failure) {
      rs.editStatus()
          .addNewCondition()
          .withType("ReplicaFailure")
          .withStatus("True")
          .withReason("FailedCreate")
          .withMessage(
              "Internal error occurred: failed calling webhook \"pods.schemagate.dev\": no"
                  + " endpoints available for service \"schemagate-webhook\"")
          .endCondition()
          .endStatus();
    }
    return rs.build();
  }

  @Test
  void onlyTheReplicaSetsOfGatedWorkloadsWhosePodsWereRefusedAreWokenByTheirAnnotation() {
    List.of(
            replicaSet("shop", "orders-api-7d4b9", true, 1, 0, true),
            replicaSet("shop", "orders-api-5c8f2", true, 2, 2, false),
            replicaSet("shop", "orders-api-quota", true, 2, 1, false),
            replicaSet("shop", "billing-api-1a2b3", false, 1, 0, true),
            replicaSet("billing", "billing-api-9f8e7", true, 1, 0, true))
        .forEach(rs -> client.apps().replicaSets().resource(rs).create());
    Clock at = Clock.fixed(Instant.parse("2026-12-07T19:50:01.250Z"), ZoneOffset.UTC);

    assertThat(ReplicaSetNudge.once(client, Optional.of(List.of("shop")), at))
        .containsExactly("shop/orders-api-7d4b9");
    assertThat(annotations("shop", "orders-api-7d4b9"))
        .containsEntry(ReplicaSetNudge.ANNOTATION, "2026-12-07T19:50:01.250Z");
    for (String untouched : List.of("orders-api-5c8f2", "orders-api-quota", "billing-api-1a2b3")) {
      assertThat(annotations("shop", untouched)).doesNotContainKey(ReplicaSetNudge.ANNOTATION);
    }
    assertThat(annotations("billing", "billing-api-9f8e7"))
        .as("not a watched namespace")
        .doesNotContainKey(ReplicaSetNudge.ANNOTATION);

    // every namespace (watch.mode: cluster); each nudge a new value, so that each is an update
    Clock later = Clock.offset(at, java.time.Duration.ofSeconds(2));
    assertThat(ReplicaSetNudge.once(client, Optional.empty(), later))
        .containsExactlyInAnyOrder("shop/orders-api-7d4b9", "billing/billing-api-9f8e7");
    assertThat(annotations("shop", "orders-api-7d4b9"))
        .containsEntry(ReplicaSetNudge.ANNOTATION, "2026-12-07T19:50:03.250Z");
  }

  @Test
  void theWakeUpIsOneAnnotationAndNothingElse() {
    assertThat(ReplicaSetNudge.body(Instant.parse("2026-12-07T19:50:01.250Z")))
        .isEqualTo(
            "{\"metadata\":{\"annotations\":{\"schemagate.dev/nudged-at\":\"2026-12-07T19:50:01.250Z\"}}}");
  }

  Map<String, String> annotations(String ns, String name) {
    Map<String, String> a =
        client
            .apps()
            .replicaSets()
            .inNamespace(ns)
            .withName(name)
            .get()
            .getMetadata()
            .getAnnotations();
    return a == null ? Map.of() : a;
  }
}
