package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Churn on the real control plane: five times over, 50 DatabaseMigrations are created (each gating
 * one of ten shared Deployments, five holders each), 20 of them updated to a new target and 30
 * deleted, all at once, runs in flight. The migrations are simulated by the kubelet (a container
 * that "runs" 300 ms and reports its result) so that only the operator, the API server and the
 * controllers are under load. When it settles: no orphan Job, no Deployment held by a
 * DatabaseMigration that no longer exists, and one history entry per run.
 */
@ExtendWith(E2e.Reporter.class)
class ChurnE2eTest {
  static final String V1 = "e2e/churn:1";
  static final String V2 = "e2e/churn:2";
  static final int ROUNDS = 5;
  static final int CREATED = 50;
  static final int UPDATED = 20;
  static final int DELETED = 30;
  static final int DEPLOYMENTS = 10;
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\",\"toRevision\":"
          + "\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":300}";
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(
        E2e.sandbox.cluster instanceof RealCluster, "churn is measured on the real control plane");
    E2e.sandbox.simulatedImage(V1, Duration.ofMillis(300), RESULT, 0);
    E2e.sandbox.simulatedImage(V2, Duration.ofMillis(300), RESULT, 0);
  }

  Map<String, Object> spec(String image, String target, int deployment) {
    return E2e.spec(image, target, "orders-db", "app-" + deployment);
  }

  @Test
  void churnLeavesNoOrphanJobNoStaleHoldAndOneHistoryEntryPerRun() throws Exception {
    world = new E2e();
    world.secret("orders-db", "postgresql://nowhere/none");
    for (int d = 0; d < DEPLOYMENTS; d++) {
      world
          .client()
          .apps()
          .deployments()
          .inNamespace(world.ns)
          .resource(
              new DeploymentBuilder()
                  .withNewMetadata()
                  .withName("app-" + d)
                  .endMetadata()
                  .withNewSpec()
                  .withReplicas(0)
                  .withNewSelector()
                  .addToMatchLabels("app", "app-" + d)
                  .endSelector()
                  .withNewTemplate()
                  .withNewMetadata()
                  .addToLabels("app", "app-" + d)
                  .endMetadata()
                  .withNewSpec()
                  .addNewContainer()
                  .withName("app")
                  .withImage("shop/app:1")
                  .endContainer()
                  .endSpec()
                  .endTemplate()
                  .endSpec()
                  .build())
          .create();
    }
    Instant start = Instant.now();
    Set<String> alive = new HashSet<>();
    Set<String> deleted = new HashSet<>();
    for (int round = 0; round < ROUNDS; round++) {
      List<String> names = new ArrayList<>();
      for (int i = 0; i < CREATED; i++) {
        String name = "m-" + round + "-" + i;
        world.migration(name, spec(V1, "1", i % DEPLOYMENTS));
        names.add(name);
      }
      for (String name : names.subList(0, UPDATED)) {
        world.editSpec(
            name,
            s -> {
              s.put("image", V2);
              s.put("targetRevision", "2");
            });
      }
      for (String name : names.subList(UPDATED, UPDATED + DELETED)) {
        world.dbm(name).delete();
      }
      alive.addAll(names.subList(0, UPDATED));
      deleted.addAll(names.subList(UPDATED, UPDATED + DELETED));
    }
    Duration churned = Duration.between(start, Instant.now());

    await()
        .atMost(Duration.ofMinutes(6))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              Map<String, GenericKubernetesResource> now = migrations();
              return now.keySet().equals(alive)
                  && now.values().stream()
                      .allMatch(
                          r ->
                              "Ready".equals(status(r).get("phase"))
                                  && "2".equals(status(r).get("currentRevision")));
            });
    Duration settled = Duration.between(start, Instant.now());

    Map<String, GenericKubernetesResource> left = migrations();
    List<Job> jobs = world.jobs();
    assertThat(jobs)
        .as("no orphan Job: each belongs to a DatabaseMigration that exists")
        .allSatisfy(
            j ->
                assertThat(left)
                    .containsKey(j.getMetadata().getAnnotations().get("schemagate.dev/migration")));
    for (int d = 0; d < DEPLOYMENTS; d++) {
      Deployment deployment =
          world.client().apps().deployments().inNamespace(world.ns).withName("app-" + d).get();
      Map<String, String> annotations = deployment.getMetadata().getAnnotations();
      assertThat(annotations == null ? null : annotations.get("schemagate.dev/held-by"))
          .as("app-%d is held by nobody once every DatabaseMigration is Ready", d)
          .isNull();
      assertThat(deployment.getSpec().getPaused()).as("app-%d", d).isNotEqualTo(Boolean.TRUE);
    }
    int runs = 0;
    int superseded = 0;
    for (GenericKubernetesResource r : left.values()) {
      String name = r.getMetadata().getName();
      List<Map<String, Object>> history = history(r);
      List<Object> ids = history.stream().map(h -> h.get("id")).toList();
      assertThat(ids).as("%s: each run recorded once", name).doesNotHaveDuplicates();
      assertThat(history.get(0))
          .as(name)
          .satisfies(
              h -> {
                assertThat(h.get("outcome")).isEqualTo("Succeeded");
                assertThat(h.get("toRevision")).isEqualTo("2");
              });
      // a run superseded before its container started (its pod refused or not yet placed when
      // the spec changed) is recorded and its Job deleted, by design
      Set<String> recorded =
          history.stream().map(h -> (String) h.get("job")).collect(Collectors.toSet());
      Set<String> kept =
          history.stream()
              .filter(h -> !String.valueOf(h.get("message")).contains("superseded"))
              .map(h -> (String) h.get("job"))
              .collect(Collectors.toSet());
      Set<String> existing =
          jobs.stream()
              .filter(
                  j ->
                      name.equals(j.getMetadata().getAnnotations().get("schemagate.dev/migration")))
              .map(j -> j.getMetadata().getName())
              .collect(Collectors.toSet());
      assertThat(recorded).as("%s: every Job is a recorded run", name).containsAll(existing);
      assertThat(existing).as("%s: every run that ran keeps its Job", name).containsAll(kept);
      superseded += recorded.size() - kept.size();
      runs += history.size();
    }
    System.out.printf(
        "churn: %d created, %d updated, %d deleted in %d ms; settled after %d ms: %d DatabaseMigrations"
            + " left, %d runs recorded (%d superseded before they started), %d Jobs%n",
        ROUNDS * CREATED,
        ROUNDS * UPDATED,
        ROUNDS * DELETED,
        churned.toMillis(),
        settled.toMillis(),
        left.size(),
        runs,
        superseded,
        jobs.size());
  }

  Map<String, GenericKubernetesResource> migrations() {
    return world
        .client()
        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
        .inNamespace(world.ns)
        .list()
        .getItems()
        .stream()
        .collect(Collectors.toMap(r -> r.getMetadata().getName(), r -> r));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> status(GenericKubernetesResource r) {
    Object status = r.getAdditionalProperties().get("status");
    return status == null ? Map.of() : (Map<String, Object>) status;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> history(GenericKubernetesResource r) {
    return (List<Map<String, Object>>) status(r).getOrDefault("history", List.of());
  }
}
