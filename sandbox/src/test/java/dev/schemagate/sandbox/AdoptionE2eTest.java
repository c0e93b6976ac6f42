package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Adopting a live database, on the real cluster with real PostgreSQL: its tables and rows were made
 * without the migration tool (no Flyway history table, no alembic_version). Without spec.baseline
 * the run stops before it touches anything and the app stays held; with it, the baseline is
 * recorded, the later migrations run, and the app is released.
 */
@ExtendWith(E2e.Reporter.class)
class AdoptionE2eTest {
  static String flyway;
  static final String ALEMBIC = "registry.example.com/shop/orders-migrations:1.3.0-adopt";
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    Sandbox sandbox = E2e.sandbox();
    flyway = E2e.runnerImage("e2e/app-user-adopt:4", E2e.exampleMigrations());
    Path example = AlembicE2eTest.copy(sandbox.work.resolve("images/orders-1.3-adopt"), "0003");
    sandbox.pythonImage(ALEMBIC, example, AlembicE2eTest.shim(example));
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  /** The tables of the database's public schema, and its rows of app_user. */
  private List<String> schemaAndRows() throws Exception {
    List<String> seen =
        new java.util.ArrayList<>(
            world.rows(
                "SELECT table_name || '.' || column_name FROM information_schema.columns"
                    + " WHERE table_schema = 'public' ORDER BY table_name, column_name"));
    seen.addAll(world.rows("SELECT id || ' ' || name || ' ' || email FROM app_user ORDER BY id"));
    return seen;
  }

  /**
   * The first run on a database with tables and no history: BaselineRequired, and nothing changed;
   * the run is not tried again by itself, and the app stays held. Returns the schema as it was.
   */
  private List<String> refusedWithoutABaseline(String history) throws Exception {
    List<String> before = schemaAndRows();
    // the image's pull and its tool's start on a shared node: up to two minutes
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "BaselineRequired".equals(world.stalled("orders")));
    assertThat(world.phase("orders")).isEqualTo("Failed");
    String message = (String) world.condition("orders", "Stalled").get("message");
    assertThat(message)
        .contains(
            "no migration ran (exit code 13)",
            "app_user",
            "Nothing was changed",
            "Set spec.baseline.revision to the revision the database is at")
        .doesNotContain("the migration failed");
    assertThat(world.condition("orders", "Ready").get("reason")).isEqualTo("BaselineRequired");
    Map<String, Object> held = world.condition("orders", "RolloutHeld");
    assertThat(held.get("status")).isEqualTo("True");
    assertThat((String) held.get("message")).contains("orders-api");
    assertThat(world.paused("orders-api")).as("the app stays held").isTrue();
    eventually()
        .until(
            () ->
                world.events("RunFailed").stream()
                    .anyMatch(
                        m -> m.startsWith("BaselineRequired:") && m.contains("spec.baseline")));
    Map<String, Object> failed = world.history("orders").get(0);
    assertThat(failed.get("outcome")).isEqualTo("Failed");
    assertThat(failed.get("reason")).isEqualTo("BaselineRequired");
    // what kubectl shows
    String get = world.kubectl("get", "dbm", "orders");
    assertThat(get).contains("Failed");
    String describe = world.kubectl("describe", "dbm", "orders");
    assertThat(describe).contains("BaselineRequired", "spec.baseline.revision");
    System.out.println(
        "adoption: kubectl get dbm\n" + get + "adoption: kubectl describe\n" + describe);

    // not tried again by itself: one Job, one pod, for as long as no one changes the spec
    Thread.sleep(Duration.ofSeconds(15).toMillis());
    assertThat(world.jobs("upgrade")).hasSize(1);
    assertThat(world.jobPods()).hasSize(1);
    assertThat(world.history("orders")).hasSize(1);
    assertThat(world.rows("SELECT to_regclass('public." + history + "')::text"))
        .containsExactly((String) null);
    assertThat(schemaAndRows()).as("nothing was touched").isEqualTo(before);
    assertThat(world.paused("orders-api")).isTrue();
    return before;
  }

  @Test
  void flywayAdoptsALiveDatabaseOnceItsBaselineIsGiven() throws Exception {
    // the live database: scripts 1 and 2, run by hand long ago, and its users
    world.execute(
        E2e.exampleMigrations().get("V1__create_app_user.sql")
            + E2e.exampleMigrations().get("V2__add_email.sql")
            + "INSERT INTO app_user (name, email) VALUES ('ada', 'ada@example.com'),"
            + " ('grace', 'grace@example.com');");
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(flyway, "latest", "orders-db", "orders-api"));

    refusedWithoutABaseline("flyway_schema_history");

    world.editSpec("orders", s -> s.put("baseline", Map.of("revision", "2")));
    eventually().atMost(Duration.ofSeconds(120)).until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
    assertThat(world.paused("orders-api")).as("the app is released").isFalse();
    Map<String, Object> adopted = world.history("orders").get(0);
    assertThat(adopted.get("outcome")).isEqualTo("Succeeded");
    assertThat((String) adopted.get("message"))
        .contains(
            "database at revision 4", "after recording the existing database at the baseline 2");
    assertThat(
            world.rows(
                "SELECT type || ' ' || version FROM flyway_schema_history ORDER BY installed_rank"))
        .containsExactly("BASELINE 2", "SQL 3", "SQL 4");
    assertThat(world.rows("SELECT name || ' ' || display_name FROM app_user ORDER BY id"))
        .as("the rows kept, and migrated by 3 and 4")
        .containsExactly("ada ada", "grace grace");
    String get = world.kubectl("get", "dbm", "orders");
    assertThat(get).containsPattern("4\\s+Ready");
    eventually().until(() -> world.eventReasons().contains("RunSucceeded"));
    System.out.println(
        "adoption: kubectl get dbm\n"
            + get
            + "adoption: kubectl get events\n"
            + world.kubectl("get", "events", "--sort-by=.lastTimestamp"));

    // spec.baseline changed after the adoption: ignored, and said so; no run starts
    int jobs = world.jobs().size();
    world.editSpec("orders", s -> s.put("baseline", Map.of("revision", "1")));
    eventually()
        .until(
            () ->
                String.valueOf(world.condition("orders", "Ready").get("message"))
                    .contains("spec.baseline.revision 1 is not used"));
    assertThat(world.condition("orders", "Ready").get("status")).isEqualTo("True");
    assertThat((String) world.condition("orders", "Ready").get("message"))
        .contains("database at revision 4", "this one has its history");
    Thread.sleep(Duration.ofSeconds(5).toMillis());
    assertThat(world.jobs()).hasSize(jobs);
    assertThat(
            world.rows(
                "SELECT type || ' ' || version FROM flyway_schema_history ORDER BY installed_rank"))
        .containsExactly("BASELINE 2", "SQL 3", "SQL 4");
  }

  @Test
  void alembicStampsTheBaselineOfALiveDatabaseThenUpgrades() throws Exception {
    // the live database: the schema of revision 0002, made without Alembic, and its users
    world.execute(
        "CREATE TABLE app_user (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,"
            + " created_at TIMESTAMPTZ NOT NULL DEFAULT now(), email TEXT,"
            + " CONSTRAINT app_user_email_key UNIQUE (email));"
            + "INSERT INTO app_user (name, email) VALUES ('ada', 'ada@example.com'),"
            + " ('grace', 'grace@example.com');");
    world.secret("orders-db", E2e.sandbox.database.url("postgresql+asyncpg", world.database));
    world.deployment("orders-api", "shop/orders-api:1");
    Map<String, Object> spec = spec(ALEMBIC, "head", "orders-db", "orders-api");
    spec.put("tool", "alembic");
    world.migration("orders", spec);

    refusedWithoutABaseline("alembic_version");

    world.editSpec("orders", s -> s.put("baseline", Map.of("revision", "0002")));
    eventually().atMost(Duration.ofSeconds(120)).until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("0003");
    assertThat(world.paused("orders-api")).as("the app is released").isFalse();
    Map<String, Object> adopted = world.history("orders").get(0);
    assertThat(adopted.get("outcome")).isEqualTo("Succeeded");
    assertThat((String) adopted.get("message"))
        .contains(
            "database at revision 0003",
            "after recording the existing database at the baseline 0002");
    assertThat((List<?>) adopted.get("applied")).hasSize(1);
    assertThat(world.rows("SELECT version_num FROM alembic_version")).containsExactly("0003");
    assertThat(world.rows("SELECT name || ' ' || display_name FROM app_user ORDER BY id"))
        .as("the rows kept, and migrated by 0003")
        .containsExactly("ada ada", "grace grace");
    String log = E2e.sandbox.cluster.jobLog(world.ns, (String) adopted.get("job"));
    assertThat(log).contains("stamped 0002 as the baseline");
  }
}
