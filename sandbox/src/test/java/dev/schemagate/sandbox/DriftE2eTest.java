package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Drift end to end: the operator installed with its chart (on the real control plane by default), a
 * real PostgreSQL, the schemagate runner and the real Alembic. A successful run records the
 * schema's fingerprint; a check Job every 5 s compares the live schema with it; an ALTER TABLE made
 * by hand is reported with its table named; with onDrift: Block the next run waits until the live
 * fingerprint is acknowledged in the resource, then runs.
 */
@ExtendWith(E2e.Reporter.class)
class DriftE2eTest {
  static final String ALEMBIC_2 = "registry.example.com/shop/orders-migrations:drift-0002";
  static final String ALEMBIC_3 = "registry.example.com/shop/orders-migrations:drift-0003";
  static String flyway2;
  static String flyway3;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    Sandbox sandbox = E2e.sandbox();
    Map<String, String> three = new LinkedHashMap<>(E2e.exampleMigrations());
    three.keySet().removeIf(k -> k.matches("[VU]4__.*"));
    flyway3 = E2e.runnerImage("e2e/drift-app-user:3", three);
    Map<String, String> two = new LinkedHashMap<>(three);
    two.keySet().removeIf(k -> k.matches("[VU]3__.*"));
    flyway2 = E2e.runnerImage("e2e/drift-app-user:2", two);

    Path two2 = AlembicE2eTest.copy(sandbox.work.resolve("images/drift-orders-0002"), "0002");
    sandbox.pythonImage(ALEMBIC_2, two2, AlembicE2eTest.shim(two2));
    Path three3 = AlembicE2eTest.copy(sandbox.work.resolve("images/drift-orders-0003"), "0003");
    sandbox.pythonImage(ALEMBIC_3, three3, AlembicE2eTest.shim(three3));
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> drift(String name) {
    Object drift = world.status(name).get("drift");
    return drift == null ? Map.of() : (Map<String, Object>) drift;
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> part(String name, String key) {
    Object value = drift(name).get(key);
    return value == null ? Map.of() : (Map<String, Object>) value;
  }

  @Test
  void flywayAnAlterTableByHandIsReportedAndBlockHoldsTheNextRunUntilAcknowledged()
      throws Exception {
    world.secret("orders-db", world.url());
    handMadeDriftIsReportedThenAcknowledged(
        spec(flyway2, "2", "orders-db", "orders-api"), flyway3, "3");
  }

  @Test
  void alembicAnAlterTableByHandIsReportedAndBlockHoldsTheNextRunUntilAcknowledged()
      throws Exception {
    world.secret("orders-db", E2e.sandbox.database.url("postgresql+asyncpg", world.database));
    Map<String, Object> spec = spec(ALEMBIC_2, "head", "orders-db", "orders-api");
    spec.put("tool", "alembic");
    handMadeDriftIsReportedThenAcknowledged(spec, ALEMBIC_3, "head");
  }

  @Test
  void theApiServerRefusesADriftSpecThatCannotWorkAndSaysWhy() {
    assumeTrue(E2e.sandbox.real() != null, "the embedded API server does not run CEL rules");
    Map<String, Object> tooOften = spec(flyway2, "2", "orders-db");
    tooOften.put("drift", Map.of("interval", "1s"));
    assertThatThrownBy(() -> world.migration("too-often", tooOften))
        .hasMessageContaining("spec.drift.interval must be at least 5s");
    Map<String, Object> blind = spec(flyway2, "2", "orders-db");
    blind.put("drift", Map.of("onDrift", "Block"));
    assertThatThrownBy(() -> world.migration("blind", blind))
        .hasMessageContaining("spec.drift.onDrift: Block needs spec.drift.interval");
    Map<String, Object> notAFingerprint = spec(flyway2, "2", "orders-db");
    notAFingerprint.put("drift", Map.of("interval", "10m", "acknowledged", "yes"));
    assertThatThrownBy(() -> world.migration("not-a-fingerprint", notAFingerprint))
        .hasMessageContaining("spec.drift.acknowledged");
  }

  void handMadeDriftIsReportedThenAcknowledged(
      Map<String, Object> spec, String nextImage, String nextTarget) throws Exception {
    world.deployment("orders-api", "shop/orders-api:1");
    spec.put("drift", new LinkedHashMap<>(Map.of("interval", "5s", "onDrift", "Block")));
    world.migration("orders", spec);

    eventually().atMost(Duration.ofSeconds(120)).until(() -> "Ready".equals(world.phase("orders")));
    String recorded = (String) drift("orders").get("fingerprint");
    assertThat(recorded).as("the run recorded the schema it left").matches("[0-9a-f]{16}");
    assertThat((Map<String, Object>) drift("orders").get("tables"))
        .containsKey("public.app_user")
        .doesNotContainKeys("public.flyway_schema_history", "public.alembic_version");
    assertThat(world.history("orders").get(0).get("schemaFingerprint")).isEqualTo(recorded);
    assertThat(world.paused("orders-api")).isFalse();

    // the first check, an interval later, finds the schema the run left
    eventually()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "NoDrift".equals(world.condition("orders", "Drifted").get("reason")));
    assertThat(world.condition("orders", "Drifted")).containsEntry("status", "False");
    String firstCheck = (String) part("orders", "check").get("job");
    assertThat(world.jobs("upgrade")).hasSize(1);

    // The cost of a check: the next one, from the moment one has ended, on the API server.
    String endedCheck;
    long mark;
    do {
      eventually()
          .atMost(Duration.ofSeconds(60))
          .until(() -> part("orders", "check").get("outcome") != null);
      endedCheck = (String) part("orders", "check").get("id");
      mark = E2e.sandbox.real() != null ? E2e.sandbox.real().auditMark() : 0;
    } while (!endedCheck.equals(part("orders", "check").get("id")));
    String ended = endedCheck;
    eventually()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> !ended.equals(part("orders", "check").get("id")));
    Instant started = Instant.now();
    eventually()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> part("orders", "check").get("outcome") != null);
    long toStatus = Duration.between(started, Instant.now()).toMillis();
    Map<String, Object> measured = part("orders", "check");
    System.out.println(
        spec.getOrDefault("tool", "flyway")
            + " drift check Job "
            + measured.get("job")
            + ": "
            + measured.get("seconds")
            + " s from its creation to its completion (the Job's timestamps); "
            + toStatus
            + " ms from its appearance in status to its outcome in status");
    if (E2e.sandbox.real() != null) {
      System.out.println(
          "the operator's API requests over one check cycle: "
              + E2e.sandbox.real().requests(ChartOperator.USER, mark));
    }
    eventually()
        .untilAsserted(
            () ->
                assertThat(world.jobs().stream().map(j -> j.getMetadata().getName()))
                    .as("finished check Jobs are pruned: the last one is kept")
                    .doesNotContain(firstCheck));

    // someone changes the schema by hand
    Instant altered = Instant.now();
    world.execute("ALTER TABLE app_user ADD COLUMN nickname text");
    eventually()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "True".equals(world.condition("orders", "Drifted").get("status")));
    System.out.println(
        "drift reported "
            + Duration.between(altered, Instant.now()).toMillis()
            + " ms after the ALTER TABLE (interval 5s)");
    Map<String, Object> drifted = world.condition("orders", "Drifted");
    assertThat(drifted).containsEntry("reason", "DriftDetected");
    assertThat((String) drifted.get("message"))
        .contains("changed public.app_user", "differs from fingerprint " + recorded);
    String liveFingerprint = (String) part("orders", "live").get("fingerprint");
    assertThat(liveFingerprint).matches("[0-9a-f]{16}").isNotEqualTo(recorded);
    assertThat((List<String>) part("orders", "live").get("changed"))
        .containsExactly("public.app_user");
    assertThat(world.events("DriftDetected"))
        .anySatisfy(m -> assertThat(m).contains("changed public.app_user"));
    assertThat(world.phase("orders")).as("nothing to run: nothing held").isEqualTo("Ready");
    if (E2e.sandbox.real() != null) {
      String get = world.kubectl("get", "dbm", "orders");
      assertThat(get).contains("DRIFTED", "true");
      System.out.println("$ kubectl get dbm orders\n" + get);
      System.out.println(
          "$ kubectl describe dbm orders\n" + world.kubectl("describe", "dbm", "orders"));
    }

    // the next release waits for the drift to be acknowledged
    world.editSpec(
        "orders",
        s -> {
          s.put("image", nextImage);
          s.put("targetRevision", nextTarget);
        });
    eventually()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "DriftBlocked".equals(world.phase("orders")));
    Map<String, Object> ready = world.condition("orders", "Ready");
    assertThat(ready).containsEntry("status", "False").containsEntry("reason", "DriftBlocked");
    assertThat((String) ready.get("message"))
        .contains("set spec.drift.acknowledged: " + liveFingerprint);
    eventually().until(() -> world.paused("orders-api"));
    assertThat(world.jobs("upgrade")).as("the new run waits").hasSize(1);
    assertThat(world.events("DriftBlocked")).isNotEmpty();
    if (E2e.sandbox.real() != null) {
      System.out.println("$ kubectl get dbm orders\n" + world.kubectl("get", "dbm", "orders"));
    }

    // a person acknowledges the live schema in the resource (a GitOps commit does the same)
    world.editSpec(
        "orders",
        s -> {
          @SuppressWarnings("unchecked")
          Map<String, Object> drift = (Map<String, Object>) s.get("drift");
          drift.put("acknowledged", liveFingerprint);
        });
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "Ready".equals(world.phase("orders")) && world.jobs("upgrade").size() == 2);
    assertThat(
            world.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'app_user'"
                    + " AND column_name IN ('display_name', 'nickname') ORDER BY 1"))
        .containsExactly("display_name", "nickname");
    String after = (String) drift("orders").get("fingerprint");
    assertThat(after).matches("[0-9a-f]{16}").isNotEqualTo(recorded).isNotEqualTo(liveFingerprint);
    assertThat(world.condition("orders", "Drifted")).containsEntry("status", "False");
    assertThat(world.paused("orders-api")).isFalse();
    // and the checks go on against the new fingerprint
    eventually()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "NoDrift".equals(world.condition("orders", "Drifted").get("reason")));
  }
}
