package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
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
 * End to end with the schemagate runner: real PostgreSQL, real Flyway, the operator's own process.
 */
@ExtendWith(E2e.Reporter.class)
class FlywayE2eTest {
  static String good;
  static String bad;
  static String slow;
  static String sleepy;
  static String needsSettings;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    good = E2e.runnerImage("e2e/app-user:4", E2e.exampleMigrations());
    Map<String, String> badFiles = new LinkedHashMap<>(E2e.exampleMigrations());
    badFiles.put(
        "V3__add_display_name.sql",
        "CREATE TABLE half_done (id int);\nALTER TABLE app_user ADD COLUMN display_name TEXT;\nCREAT INDEX oops ON app_user (name);\n");
    bad = E2e.runnerImage("e2e/app-user-bad:3", badFiles);
    slow =
        E2e.runnerImage(
            "e2e/slow:2",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE slow_t (id int);",
                "V2__wait.sql",
                "SELECT pg_sleep(4);"));
    sleepy = E2e.runnerImage("e2e/sleepy:1", Map.of("V1__sleep.sql", "SELECT pg_sleep(60);"));
    needsSettings =
        E2e.runnerImage(
            "e2e/needs-settings:2",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE orders (id int);",
                "V2__seed.sql",
                "INSERT INTO orders SELECT id FROM settings;"));
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void firstUpgradeHoldsTheAppUntilTheDatabaseIsReady() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(good, "latest", "orders-db", "orders-api"));

    eventually().until(() -> !world.jobs().isEmpty());
    assertThat(world.paused("orders-api")).as("held before the migration runs").isTrue();
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.paused("orders-api")).isFalse();
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
    var entry = world.history("orders").get(0);
    assertThat(entry.get("outcome")).isEqualTo("Succeeded");
    assertThat((List<?>) entry.get("applied")).hasSize(4);
    assertThat(
            world.rows(
                "SELECT version FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank"))
        .containsExactly("1", "2", "3", "4");
    eventually()
        .until(() -> world.eventReasons().containsAll(List.of("RunStarted", "RunSucceeded")));
    assertThat(world.events())
        .anySatisfy(
            e ->
                assertThat(e.getMessage()).startsWith("started Job").contains("paused orders-api"));
    assertThat(world.events())
        .anySatisfy(
            e -> assertThat(e.getMessage()).contains("4 migrations applied", "resumed orders-api"));
  }

  @Test
  void aFailingMigrationLeavesTheAppHeldAndTheDatabaseUnchanged() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(bad, "latest", "orders-db", "orders-api"));

    eventually().until(() -> "Failed".equals(world.phase("orders")));
    var stalled = world.condition("orders", "Stalled");
    assertThat(stalled.get("status")).isEqualTo("True");
    assertThat(stalled.get("reason")).isEqualTo("MigrationFailed");
    assertThat((String) stalled.get("message")).contains("revision 3 failed", "syntax error");
    assertThat(world.jobs())
        .singleElement()
        .satisfies(
            j ->
                assertThat(j.getStatus().getConditions())
                    .anySatisfy(
                        c -> assertThat(c.getType() + c.getStatus()).isEqualTo("FailedTrue")));
    assertThat(world.paused("orders-api")).isTrue();
    assertThat(
            world.rows(
                "SELECT count(*)::text FROM information_schema.tables WHERE table_name = 'half_done'"))
        .containsExactly("0");
    assertThat(world.rows("SELECT max(version) FROM flyway_schema_history")).containsExactly("2");
  }

  @Test
  void anOperatorStoppedMidRunAdoptsTheRunningJobWhenItComesBack() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually().until(() -> "Migrating".equals(world.phase("orders")));

    E2e.sandbox.operator().kill();
    Thread.sleep(1000);
    assertThat(world.jobs()).hasSize(1);
    E2e.sandbox.startOperator();

    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).as("exactly one Job").hasSize(1);
    assertThat(world.history("orders"))
        .singleElement()
        .satisfies(h -> assertThat(h.get("toRevision")).isEqualTo("2"));
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  void aMissingSecretIsReportedBeforeAnyMigrationAndTheRunGoesOnOnceItExists() throws Exception {
    world.migration("orders", spec(good, "2", "orders-db"));
    eventually()
        .until(() -> "SecretNotFound".equals(world.condition("orders", "Stalled").get("reason")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("secret \"orders-db\" not found");
    assertThat(
            world.rows(
                "SELECT count(*)::text FROM information_schema.tables WHERE table_name = 'flyway_schema_history'"))
        .containsExactly("0");

    world.secret("orders-db", world.url());
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).hasSize(1);
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("2");
  }

  @Test
  void anUnmappedImageIsImagePullFailedAtOnceNotAfterTheDeadline() throws Exception {
    world.secret("orders-db", world.url());
    Instant start = Instant.now();
    world.migration(
        "orders", spec("registry.example.com/nowhere/migrations:9", "latest", "orders-db"));
    eventually()
        .until(() -> "ImagePullFailed".equals(world.condition("orders", "Stalled").get("reason")));
    assertThat(Duration.between(start, Instant.now()))
        .as("well before the 900 s deadline")
        .isLessThan(Duration.ofSeconds(30));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("nowhere/migrations:9");
    assertThat(world.phase("orders")).isEqualTo("Failed");
  }

  @Test
  void aMigrationPastItsDeadlineIsDeadlineExceededAndTheAppStaysHeld() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    Map<String, Object> spec = spec(sleepy, "latest", "orders-db", "orders-api");
    spec.put("job", Map.of("activeDeadlineSeconds", 3));
    world.migration("orders", spec);
    eventually()
        .until(() -> "DeadlineExceeded".equals(world.condition("orders", "Stalled").get("reason")));
    assertThat(world.paused("orders-api")).isTrue();
    assertThat(world.history("orders").get(0).get("reason")).isEqualTo("DeadlineExceeded");
  }

  @Test
  void twoMigrationsOnTwoDatabasesAtOnceAreIndependent() throws Exception {
    E2e other = new E2e().createDatabase();
    world.secret("orders-db", world.url());
    other.secret("orders-db", other.url());
    world.migration("orders", spec(good, "latest", "orders-db"));
    other.migration("orders", spec(good, "2", "orders-db"));
    eventually()
        .until(
            () -> "Ready".equals(world.phase("orders")) && "Ready".equals(other.phase("orders")));
    assertThat(world.rows("SELECT max(version) FROM flyway_schema_history")).containsExactly("4");
    assertThat(other.rows("SELECT max(version) FROM flyway_schema_history")).containsExactly("2");
  }

  @Test
  void aSentinelPasswordInTheSecretAppearsNowhere() throws Exception {
    // '@', '/' and a space in it: percent-encoded in the URL, as a Secret holds it
    String sentinel = "Sentinel@" + world.ns + "/p w";
    world.secret(
        "orders-db",
        E2e.sandbox
            .database
            .url("postgresql+asyncpg", world.database)
            .replace(
                ":postgres@",
                ":"
                    + java.net.URLEncoder.encode(sentinel, java.nio.charset.StandardCharsets.UTF_8)
                        .replace("+", "%20")
                    + "@"));
    world.migration("orders", spec(bad, "latest", "orders-db"));
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    eventually().until(() -> world.eventReasons().contains("RunFailed"));
    String status = world.client().getKubernetesSerialization().asJson(world.status("orders"));
    assertThat(status).contains("syntax error");
    List<Pod> pods = world.client().pods().inNamespace(world.ns).list().getItems();
    assertThat(pods).isNotEmpty();
    world.assertNowhere(sentinel, true);
  }

  @Test
  void theRetryAnnotationAfterAFixStartsExactlyOneNewJob() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(needsSettings, "latest", "orders-db", "orders-api"));
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    assertThat((String) world.condition("orders", "Stalled").get("message")).contains("settings");
    Thread.sleep(1000);
    assertThat(world.jobs()).as("no retry by itself").hasSize(1);

    try (var c = E2e.sandbox.database.connect(world.database)) {
      c.createStatement()
          .execute("CREATE TABLE settings (id int); INSERT INTO settings VALUES (1)");
    }
    Demo.retryOnConflict(
        () ->
            world
                .dbm("orders")
                .edit(
                    d -> {
                      d.getMetadata().getAnnotations().put("schemagate.dev/retry", "after-fix");
                      return d;
                    }));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).hasSize(2);
    assertThat(world.paused("orders-api")).isFalse();
    assertThat(world.rows("SELECT count(*)::text FROM orders")).containsExactly("1");
  }
}
