package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.sandbox.cluster.ContainerEvents;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The gate against the real Deployment and ReplicaSet controllers: no pod of the new template
 * exists while the migration runs or after it failed; after success the new ReplicaSet rolls out.
 */
@ExtendWith(E2e.Reporter.class)
class RolloutGateE2eTest {
  static final String V1 = "shop/orders-api:1";
  static final String V2 = "shop/orders-api:2";
  static String slow;
  static String bad;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(
        E2e.sandbox.cluster instanceof RealCluster, "the embedded sandbox has no ReplicaSets");
    slow =
        E2e.runnerImage(
            "e2e/gate-slow:1",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE t (id int);",
                "V2__wait.sql",
                "SELECT pg_sleep(4);"));
    Map<String, String> badFiles = new LinkedHashMap<>(E2e.exampleMigrations());
    badFiles.put(
        "V3__add_display_name.sql",
        "ALTER TABLE app_user ADD COLUMN display_name TEXT;\nCREAT INDEX oops ON app_user (name);\n");
    bad = E2e.runnerImage("e2e/gate-bad:3", badFiles);
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
    world.secret("orders-db", world.url());
    world.deployment("orders-api", V1);
    E2e.sandbox.idleImage(V2);
    eventually().until(() -> V1.equals(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")));
  }

  @Test
  void theNewTemplateRunsOnlyOnceTheMigrationSucceeded() throws Exception {
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually()
        .until(() -> "Migrating".equals(world.phase("orders")) && world.paused("orders-api"));
    setImage(V2);
    // the app is resumed a moment before the status says Ready: watch the Job, not the phase
    while (!jobCompleted()) {
      assertThat(podsOf(V2)).as("pods of the new template while the migration runs").isEmpty();
      Thread.sleep(100);
    }
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    eventually().until(() -> V2.equals(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")));
    Instant completed = Instant.parse(world.jobs().get(0).getStatus().getCompletionTime());
    List<ContainerEvents.Start> started = starts(V2);
    assertThat(started)
        .hasSize(2)
        .allSatisfy(
            s ->
                assertThat(s.at())
                    .as("started after the Job completed")
                    .isAfterOrEqualTo(completed));
    assertThat(podsOf(V1)).isEmpty();
  }

  @Test
  void aFailedMigrationLeavesTheOldPodsServingAndNoneOfTheNewTemplate() throws Exception {
    world.migration("orders", spec(bad, "latest", "orders-db", "orders-api"));
    eventually().until(() -> world.paused("orders-api"));
    setImage(V2);
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    Thread.sleep(3000);
    assertThat(podsOf(V2)).isEmpty();
    assertThat(starts(V2)).isEmpty();
    assertThat(podsOf(V1))
        .hasSize(2)
        .allSatisfy(p -> assertThat(p.getStatus().getPhase()).isEqualTo("Running"));
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")).isEqualTo(V1);
  }

  @Test
  void aDeploymentResumedByHandMidRunIsPausedAgainAndTold() throws Exception {
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually()
        .until(() -> "Migrating".equals(world.phase("orders")) && world.paused("orders-api"));
    setImage(V2);
    Thread.sleep(500);
    assertThat(podsOf(V2)).as("held: no pod of the new template").isEmpty();

    // a person, or Argo CD or Flux healing a manifest that says paused: false
    Process resume =
        new ProcessBuilder(
                E2e.sandbox.real().kubectl().toString(),
                "--kubeconfig",
                E2e.sandbox.kubeconfig.toString(),
                "--namespace",
                world.ns,
                "rollout",
                "resume",
                "deployment/orders-api")
            .redirectErrorStream(true)
            .start();
    String said = new String(resume.getInputStream().readAllBytes());
    assertThat(resume.waitFor()).as(said).isZero();
    Instant resumed = Instant.now();
    eventually().until(() -> world.paused("orders-api"));
    Duration repaused = Duration.between(resumed, Instant.now());
    eventually()
        .untilAsserted(
            () ->
                assertThat(world.events("GateOverridden"))
                    .singleElement()
                    .asString()
                    .contains("orders-api was resumed", "held it again"));
    Thread.sleep(1000);
    int slipped = podsOf(V2).size();
    System.out.printf(
        "gate overridden: orders-api paused again %d ms after kubectl rollout resume returned;"
            + " %d pod(s) of the new template created in that window%n",
        repaused.toMillis(), slipped);
    assertThat(slipped)
        .as("at most what the Deployment controller made in the window (maxSurge)")
        .isLessThanOrEqualTo(1);
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    Instant completed = Instant.parse(world.jobs().get(0).getStatus().getCompletionTime());
    assertThat(starts(V2))
        .filteredOn(s -> s.at().isBefore(completed))
        .as("no pod of the new template started after it was paused again")
        .hasSize(slipped);
    eventually().until(() -> V2.equals(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")));
  }

  private boolean jobCompleted() {
    return world.jobs().stream()
        .allMatch(
            j ->
                j.getStatus() != null
                    && j.getStatus().getConditions() != null
                    && j.getStatus().getConditions().stream()
                        .anyMatch(
                            c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus())));
  }

  private void setImage(String image) {
    world.editDeployment(
        "orders-api",
        d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image));
  }

  private List<Pod> podsOf(String image) {
    return world
        .client()
        .pods()
        .inNamespace(world.ns)
        .withLabel("app", "orders-api")
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> image.equals(p.getSpec().getContainers().get(0).getImage()))
        .toList();
  }

  private List<ContainerEvents.Start> starts(String image) {
    return E2e.sandbox.real().starts().stream()
        .filter(s -> s.namespace().equals(world.ns) && s.image().equals(image))
        .toList();
  }
}
