package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A rename as expand, roll out, contract, on the real cluster with real PostgreSQL and Flyway: the
 * column the old app version reads is dropped only once every replica of the new version runs.
 */
@ExtendWith(E2e.Reporter.class)
class ExpandContractE2eTest {
  static String release1;
  static String release2;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    Map<String, String> files = new LinkedHashMap<>();
    files.put(
        "V1__create_customer.sql",
        "CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);\n"
            + "INSERT INTO customer VALUES (1, 'Ada Lovelace');\n");
    release1 = E2e.runnerImage("e2e/customer:1", files);
    files.put(
        "V2__add_full_name.sql",
        "ALTER TABLE customer ADD COLUMN full_name text;\nUPDATE customer SET full_name = name;\n");
    files.put("V3__drop_name.contract.sql", "ALTER TABLE customer DROP COLUMN name;\n");
    release2 = E2e.runnerImage("e2e/customer:2", files);
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void theContractPartRunsOnlyOnceTheNewVersionHasRolledOut() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(release1, "latest", "orders-db", "orders-api"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));

    // the release: the migrations first (the app is held), then the app's new template
    world.editSpec("orders", s -> s.put("image", release2));
    eventually().until(() -> world.paused("orders-api"));
    world.on.idleImage("shop/orders-api:2");
    world.editDeployment(
        "orders-api",
        d ->
            d.getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .setImage("shop/orders-api:2"));

    eventually()
        .atMost(java.time.Duration.ofSeconds(120))
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && "3".equals(world.status("orders").get("currentRevision")));

    List<Map<String, Object>> history = world.history("orders");
    Map<String, Object> contract = history.get(0);
    Map<String, Object> expand = history.get(1);
    assertThat(expand.get("part")).isEqualTo("expand");
    assertThat(expand.get("toRevision")).isEqualTo("2");
    assertThat((String) expand.get("message"))
        .contains("held back until the app has rolled out: 3 drop name");
    assertThat(contract.get("part")).isEqualTo("contract");
    assertThat(contract.get("fromRevision")).isEqualTo("2");
    assertThat(contract.get("toRevision")).isEqualTo("3");
    assertThat((List<?>) contract.get("applied"))
        .singleElement()
        .satisfies(a -> assertThat(((Map<?, ?>) a).get("kind")).isEqualTo("contract"));

    // every pod now runs the new version; the contract part's Job was made after the last of
    // them was Ready, and after the expand part had ended
    List<Pod> pods =
        world
            .client()
            .pods()
            .inNamespace(world.ns)
            .withLabel("app", "orders-api")
            .list()
            .getItems();
    assertThat(pods)
        .hasSize(2)
        .allSatisfy(
            p ->
                assertThat(p.getSpec().getContainers().get(0).getImage())
                    .endsWith("shop/orders-api:2"));
    Instant lastReady =
        pods.stream()
            .flatMap(p -> p.getStatus().getConditions().stream())
            .filter(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))
            .map(PodCondition::getLastTransitionTime)
            .map(Instant::parse)
            .max(Instant::compareTo)
            .orElseThrow();
    Job contractJob =
        world.jobs().stream()
            .filter(
                j -> "contract".equals(j.getMetadata().getAnnotations().get("schemagate.dev/part")))
            .findFirst()
            .orElseThrow();
    Instant contractCreated = Instant.parse(contractJob.getMetadata().getCreationTimestamp());
    assertThat(contractCreated)
        .as(
            "the contract Job (%s) is made after the rollout completed (%s)",
            contractCreated, lastReady)
        .isAfterOrEqualTo(lastReady);
    assertThat(contractCreated).isAfterOrEqualTo(Instant.parse((String) expand.get("finishedAt")));
    @SuppressWarnings("unchecked")
    Map<String, Object> status = (Map<String, Object>) world.status("orders").get("contract");
    assertThat(status.get("phase")).isEqualTo("Completed");
    Instant rolloutComplete = Instant.parse((String) status.get("rolloutCompletedAt"));
    assertThat(rolloutComplete).isAfterOrEqualTo(lastReady);
    assertThat(world.status("orders").get("contractRevisions")).isEqualTo(List.of("3"));

    assertThat(
            world.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'customer'"
                    + " ORDER BY column_name"))
        .containsExactly("full_name", "id");
    assertThat(world.rows("SELECT full_name FROM customer")).containsExactly("Ada Lovelace");
    eventually().until(() -> world.eventReasons().contains("RolloutComplete"));
  }
}
