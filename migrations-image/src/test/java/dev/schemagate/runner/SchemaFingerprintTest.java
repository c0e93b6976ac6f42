package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Drift detection on the runner's side, against a real PostgreSQL: the schema fingerprint, the
 * {@code schema} of a run's result and the direction check.
 */
class SchemaFingerprintTest extends RunnerFixture {
  private static final ObjectMapper JSON = new ObjectMapper();

  SchemaFingerprint read() throws SQLException {
    try (Connection c = Postgres.connect(database)) {
      return SchemaFingerprint.read(c, "public", "flyway_schema_history");
    }
  }

  RunnerProcess.Outcome check() throws Exception {
    return runner().env("SCHEMAGATE_DIRECTION", "check").run();
  }

  static JsonNode result(RunnerProcess.Outcome outcome) throws Exception {
    assertThat(outcome.result().getBytes(StandardCharsets.UTF_8).length)
        .as(outcome.result())
        .isLessThanOrEqualTo(Report.MAX_BYTES);
    return JSON.readTree(outcome.result());
  }

  /** The tables whose digest differs between two fingerprints (added and removed ones too). */
  static List<String> changed(SchemaFingerprint before, SchemaFingerprint after) {
    List<String> changed = new ArrayList<>();
    for (String table : before.tables().keySet()) {
      if (!before.tables().get(table).equals(after.tables().get(table))) {
        changed.add(table);
      }
    }
    for (String table : after.tables().keySet()) {
      if (!before.tables().containsKey(table)) {
        changed.add(table);
      }
    }
    return changed;
  }

  /** Everything a check could change: tables, columns, indexes, constraints, the history. */
  List<String> everything() throws SQLException {
    List<String> all = new ArrayList<>();
    all.addAll(
        rows(
            "SELECT c.relname || ' ' || c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'public' ORDER BY 1"));
    all.addAll(columns());
    all.addAll(
        rows(
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
                + " WHERE connamespace = 'public'::regnamespace ORDER BY 1"));
    if (!rows("SELECT to_regclass('public.flyway_schema_history')::text").contains(null)) {
      all.addAll(
          rows(
              "SELECT installed_rank || ' ' || coalesce(version, '') || ' ' || checksum || ' ' || success"
                  + " FROM flyway_schema_history ORDER BY installed_rank"));
    }
    return all;
  }

  @Test
  void theFingerprintIsStableAndEachChangeChangesOnlyTheDigestOfItsTable() throws Exception {
    assertThat(runner().run("migrate", "--target", "latest").exitCode()).isZero();
    execute("CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL, note text)");
    SchemaFingerprint first = read();
    assertThat(first.fingerprint()).matches("[0-9a-f]{16}");
    assertThat(first.tables()).containsOnlyKeys("public.app_user", "public.orders");
    assertThat(first.tables().values()).allMatch(d -> d.matches("[0-9a-f]{8}"));
    assertThat(read()).as("a second read").isEqualTo(first);

    Map<String, String> changes = new LinkedHashMap<>();
    changes.put("ALTER TABLE app_user ADD COLUMN nickname text", "public.app_user");
    changes.put("ALTER TABLE orders ALTER COLUMN total TYPE bigint", "public.orders");
    changes.put("CREATE INDEX app_user_created_at_idx ON app_user (created_at)", "public.app_user");
    changes.put(
        "ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0)",
        "public.orders");
    changes.put("ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'none'", "public.orders");
    changes.put("ALTER TABLE app_user ALTER COLUMN email SET NOT NULL", "public.app_user");
    SchemaFingerprint before = first;
    for (Map.Entry<String, String> change : changes.entrySet()) {
      execute(change.getKey());
      SchemaFingerprint after = read();
      assertThat(after.fingerprint()).as(change.getKey()).isNotEqualTo(before.fingerprint());
      assertThat(changed(before, after)).as(change.getKey()).containsExactly(change.getValue());
      before = after;
    }

    execute("DROP TABLE orders");
    SchemaFingerprint dropped = read();
    assertThat(dropped.tables()).containsOnlyKeys("public.app_user");
    assertThat(dropped.tables().get("public.app_user"))
        .isEqualTo(before.tables().get("public.app_user"));
    assertThat(dropped.fingerprint()).isNotEqualTo(before.fingerprint());
  }

  @Test
  void theHistoryTableAndOtherSchemasAreLeftOutAndTheSearchPathDoesNotMatter() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    SchemaFingerprint before = read();
    assertThat(before.tables()).containsOnlyKeys("public.app_user");
    execute("CREATE INDEX history_success_idx ON flyway_schema_history (success, version)");
    execute("CREATE SCHEMA elsewhere");
    execute("CREATE TABLE elsewhere.other (id int)");
    execute("CREATE VIEW app_user_names AS SELECT name FROM app_user");
    execute("CREATE SEQUENCE invoice_numbers");
    assertThat(read()).isEqualTo(before);

    try (Connection c = Postgres.connect(database);
        Statement s = c.createStatement()) {
      s.execute("SET search_path TO elsewhere");
      assertThat(SchemaFingerprint.read(c, "public", "flyway_schema_history")).isEqualTo(before);
      try (ResultSet rs = s.executeQuery("SHOW search_path")) {
        rs.next();
        assertThat(rs.getString(1)).as("set back after the read").isEqualTo("elsewhere");
      }
    }
  }

  @Test
  void anEmptySchemaHasTheFingerprintOfTheEmptyString() throws Exception {
    SchemaFingerprint empty = read();
    assertThat(empty.tables()).isEmpty();
    assertThat(empty.fingerprint()).isEqualTo("e3b0c44298fc1c14");
  }

  @Test
  void aSuccessfulUpgradeOrDowngradeReportsTheSchemaItLeftAndAFailedOneNone() throws Exception {
    var up = runner().run("migrate", "--target", "2");
    assertThat(up.exitCode()).as(up.stderr()).isZero();
    JsonNode schema = result(up).path("schema");
    SchemaFingerprint live = read();
    assertThat(schema.path("fingerprint").asText()).isEqualTo(live.fingerprint());
    assertThat(schema.path("tables").path("public.app_user").asText())
        .isEqualTo(live.tables().get("public.app_user"));
    assertThat(schema.path("tables").size()).isEqualTo(1);
    assertThat(up.stderr()).contains("fingerprint " + live.fingerprint() + " of 1 table(s)");

    var down = runner().run("undo", "--target", "1");
    assertThat(down.exitCode()).as(down.stderr()).isZero();
    JsonNode undone = result(down).path("schema");
    assertThat(undone.path("fingerprint").asText())
        .isEqualTo(read().fingerprint())
        .isNotEqualTo(live.fingerprint());

    Files.writeString(
        migrations.resolve("V2__add_email.sql"),
        "ALTER TABLE app_user ADD COLUMN oops nonsense;\n");
    var failed = runner().run("migrate", "--target", "latest");
    assertThat(failed.exitCode()).isEqualTo(ExitCode.MIGRATION);
    assertThat(result(failed).has("schema")).isFalse();
  }

  @Test
  void aCheckReportsTheLiveSchemaAndChangesNothing() throws Exception {
    var fresh = check();
    assertThat(fresh.exitCode()).as(fresh.stderr()).isZero();
    JsonNode empty = result(fresh);
    assertThat(empty.path("direction").asText()).isEqualTo("check");
    assertThat(empty.path("fromRevision").asText()).isEmpty();
    assertThat(empty.path("schema").path("fingerprint").asText()).isEqualTo("e3b0c44298fc1c14");
    assertThat(rows("SELECT to_regclass('public.flyway_schema_history')::text"))
        .as("no history table made")
        .containsExactly((String) null);

    var up = runner().run("migrate", "--target", "2");
    assertThat(up.exitCode()).isZero();
    List<String> before = everything();
    var checked = check();
    assertThat(checked.exitCode()).as(checked.stderr()).isZero();
    JsonNode result = result(checked);
    assertThat(result.path("tool").asText()).isEqualTo("flyway");
    assertThat(result.path("fromRevision").asText()).isEqualTo("2");
    assertThat(result.path("toRevision").asText()).isEqualTo("2");
    assertThat(result.path("applied").size()).isZero();
    assertThat(result.has("skipped")).isFalse();
    assertThat(result.path("schema")).isEqualTo(result(up).path("schema"));
    assertThat(checked.stderr()).contains("nothing was changed");
    assertThat(everything()).isEqualTo(before);

    // a change by hand: the check names the table whose digest moved
    execute("ALTER TABLE app_user ADD COLUMN phone text");
    JsonNode drifted = result(check()).path("schema");
    assertThat(drifted.path("fingerprint").asText())
        .isNotEqualTo(result.path("schema").path("fingerprint").asText());
    assertThat(drifted.path("tables").path("public.app_user").asText())
        .isNotEqualTo(result.path("schema").path("tables").path("public.app_user").asText());
  }

  /**
   * A session holds the run lock (a migration in progress) for longer than the check could wait
   * (SCHEMAGATE_RUN_LOCK_WAIT is ten minutes): the check ends while the lock is still held.
   */
  @Test
  void aCheckWhileARunHoldsTheLockExits11WithoutWaitingOrReadingTheSchema() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    long key = RunLock.key("public", "flyway_schema_history");
    try (Connection run = Postgres.connect(database);
        Statement s = run.createStatement()) {
      s.execute("SET application_name = 'schemagate-runner shop/orders 1a2b3c'");
      s.execute("SELECT pg_advisory_lock(" + key + ")");
      var checked =
          runner()
              .env("SCHEMAGATE_RUN_LOCK_WAIT", "10m")
              .env("SCHEMAGATE_DIRECTION", "check")
              .run();
      assertThat(checked.exitCode()).as(checked.stderr()).isEqualTo(ExitCode.MIGRATION_RUNNING);
      JsonNode result = result(checked);
      assertThat(result.path("direction").asText()).isEqualTo("check");
      assertThat(result.path("skipped").asText()).isEqualTo("MigrationRunning");
      assertThat(result.has("schema")).isFalse();
      assertThat(result.has("error")).isFalse();
      assertThat(result.path("fromRevision").asText()).isEqualTo("2");
      assertThat(result.path("message").asText())
          .contains(
              "a run holds the migration lock of public.flyway_schema_history",
              "schemagate-runner shop/orders 1a2b3c",
              "the check did not wait");
      assertThat(checked.stderr()).doesNotContain("waiting (");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")) {
        rs.next();
        assertThat(rs.getInt(1)).as("the run still holds its lock").isEqualTo(1);
      }
    }
    assertThat(check().exitCode()).as("the run gone, the check reads").isZero();
  }

  @Test
  void aResultWithManyTablesStaysWithin4096BytesAndKeepsTheFingerprint() throws Exception {
    StringBuilder sql = new StringBuilder();
    IntStream.rangeClosed(1, 300)
        .forEach(
            i ->
                sql.append("CREATE TABLE a_table_with_a_rather_long_name_number_")
                    .append(i)
                    .append(" (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);\n"));
    Files.writeString(migrations.resolve("V5__many_tables.sql"), sql.toString());
    var up = runner().run("migrate", "--target", "latest");
    assertThat(up.exitCode()).as(up.stderr()).isZero();
    JsonNode result = result(up);
    assertThat(result.path("schema").path("fingerprint").asText()).isEqualTo(read().fingerprint());
    assertThat(result.path("schema").path("tablesOmitted").asBoolean()).isTrue();
    assertThat(result.path("schema").has("tables")).isFalse();
    assertThat(result.path("applied").size()).as("the applied list is kept whole").isEqualTo(5);
    assertThat(read().tables()).hasSize(301);

    var checked = check();
    assertThat(checked.exitCode()).as(checked.stderr()).isZero();
    assertThat(result(checked).path("schema").path("fingerprint").asText())
        .isEqualTo(read().fingerprint());
    assertThat(result(checked).path("schema").path("tablesOmitted").asBoolean()).isTrue();
  }

  @Test
  void aReportDropsTheTablesBeforeAnyAppliedMigration() {
    Map<String, String> texts = new LinkedHashMap<>();
    for (int i = 0; i < 200; i++) {
      texts.put("public.t" + i, "table public.t" + i);
    }
    Report report = new Report("upgrade");
    report.schema = SchemaFingerprint.of(texts);
    report.applied.add(new Report.Applied("1", "create everything", 12));
    String json = report.toJson();
    assertThat(json.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(Report.MAX_BYTES);
    assertThat(json)
        .contains(
            "\"schema\":{\"fingerprint\":\""
                + report.schema.fingerprint()
                + "\",\"tablesOmitted\":true}",
            "\"revision\":\"1\"")
        .doesNotContain("\"omitted\"");

    texts.clear();
    texts.put("public.orders", "table public.orders");
    report.schema = SchemaFingerprint.of(texts);
    assertThat(report.toJson())
        .contains(
            "\"tables\":{\"public.orders\":\""
                + SchemaFingerprint.sha256("table public.orders", 8)
                + "\"}");
  }
}
