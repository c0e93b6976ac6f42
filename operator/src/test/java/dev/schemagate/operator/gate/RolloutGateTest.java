package dev.schemagate.operator.gate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Holding and releasing gated Deployments, decided from what the cache holds. */
class RolloutGateTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Deployment deployment(String name, boolean paused, String heldBy) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("shop")
        .withResourceVersion("7")
        .withAnnotations(heldBy == null ? null : Map.of(HeldBy.KEY, heldBy))
        .endMetadata()
        .withNewSpec()
        .withPaused(paused)
        .endSpec()
        .build();
  }

  static String ops(PausePatch patch) throws Exception {
    return JSON.readTree(patch.body()).toString();
  }

  @Test
  void holdingPausesAndAnnotatesAndLeavesWhatAPersonPaused() throws Exception {
    Map<String, Deployment> cache =
        Map.of(
            "api", deployment("api", false, null),
            "worker", deployment("worker", true, null),
            "web", deployment("web", true, "orders"));
    RolloutGate.Held held =
        RolloutGate.hold(
            "orders", List.of("api", "worker", "web", "missing"), List.of(), cache::get);
    assertThat(held.held()).containsExactly("api", "web");
    assertThat(held.newlyHeld()).containsExactly("api");
    assertThat(held.pausedByOthers()).containsExactly("worker");
    assertThat(held.overridden()).isEmpty();
    assertThat(held.patches())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.deployment().getMetadata().getName()).isEqualTo("api");
              assertThat(p.merge())
                  .as("no holder yet: a merge patch keeps other annotations")
                  .isTrue();
              assertThat(ops(p))
                  .isEqualTo(
                      "{\"metadata\":{\"annotations\":{\"schemagate.dev/held-by\":\"orders\"}},"
                          + "\"spec\":{\"paused\":true}}");
            });
  }

  @Test
  void aPatchTestsTheHoldersItChangesAndNothingElse() throws Exception {
    Map<String, Deployment> cache = Map.of("api", deployment("api", true, "billing"));
    RolloutGate.Held held = RolloutGate.hold("orders", List.of("api"), List.of(), cache::get);
    assertThat(held.patches())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.merge()).isFalse();
              assertThat(ops(p))
                  .isEqualTo(
                      "[{\"op\":\"test\",\"path\":\"/metadata/annotations/schemagate.dev~1held-by\",\"value\":\"billing\"},"
                          + "{\"op\":\"replace\",\"path\":\"/metadata/annotations/schemagate.dev~1held-by\",\"value\":\"billing,orders\"},"
                          + "{\"op\":\"add\",\"path\":\"/spec/paused\",\"value\":true}]")
                  .as("no test of the resourceVersion: a status update does not make it fail")
                  .doesNotContain("resourceVersion");
            });
  }

  @Test
  void aHoldSomeoneUndidIsRestoredAndTold() {
    Map<String, Deployment> cache =
        Map.of(
            "resumed", deployment("resumed", false, "orders"),
            "stripped", deployment("stripped", true, null),
            "both", deployment("both", false, null),
            "person", deployment("person", true, null));
    RolloutGate.Held held =
        RolloutGate.hold(
            "orders",
            List.of("resumed", "stripped", "both", "person"),
            List.of("resumed", "stripped", "both"),
            cache::get);
    assertThat(held.held()).containsExactly("resumed", "stripped", "both");
    assertThat(held.pausedByOthers())
        .as("paused by a person before this resource held it: left alone")
        .containsExactly("person");
    assertThat(held.newlyHeld()).isEmpty();
    assertThat(held.overridden())
        .extracting(
            o -> o.name() + " resumed=" + o.resumed() + " stripped=" + o.annotationRemoved())
        .containsExactly(
            "resumed resumed=true stripped=false",
            "stripped resumed=false stripped=true",
            "both resumed=true stripped=true");
    assertThat(held.patches()).hasSize(3).allSatisfy(p -> assertThat(p.paused()).isTrue());
  }

  @Test
  void aDeploymentNoLongerNamedIsLetGo() {
    Map<String, Deployment> cache = Map.of("old", deployment("old", true, "orders"));
    RolloutGate.Held held = RolloutGate.hold("orders", List.of(), List.of("old"), cache::get);
    assertThat(held.released()).containsExactly("old");
    assertThat(held.patches()).hasSize(1);
  }

  @Test
  void releasingResumesOnlyWhenTheLastHolderLetsGo() throws Exception {
    Map<String, Deployment> cache =
        Map.of(
            "api", deployment("api", true, "orders"),
            "shared", deployment("shared", true, "orders,billing"),
            "other", deployment("other", true, "billing"));
    RolloutGate.Released released =
        RolloutGate.release("orders", Set.of("api", "shared", "other"), cache::get);
    assertThat(released.names()).containsExactlyInAnyOrder("api", "shared");
    Map<String, String> byName = new java.util.HashMap<>();
    for (PausePatch p : released.patches()) {
      byName.put(p.deployment().getMetadata().getName(), ops(p));
    }
    assertThat(byName.get("api"))
        .contains(
            "{\"op\":\"remove\",\"path\":\"/metadata/annotations/schemagate.dev~1held-by\"}",
            "{\"op\":\"add\",\"path\":\"/spec/paused\",\"value\":false}");
    assertThat(byName.get("shared"))
        .contains(
            "\"value\":\"billing\"", "{\"op\":\"add\",\"path\":\"/spec/paused\",\"value\":true}");
  }
}
