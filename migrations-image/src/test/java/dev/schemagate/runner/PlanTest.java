package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Job contract's direction plan, and its rehearsal, against a real PostgreSQL: what a reviewer
 * reads, and that the database is as it was.
 */
class PlanTest extends RunnerFixture {
  private static final ObjectMapper JSON = new ObjectMapper();

  RunnerProcess.Outcome plan(String target, boolean rehearse) throws Exception {
    RunnerProcess p =
        runner().env("SCHEMAGATE_DIRECTION", "plan").env("SCHEMAGATE_TARGET_REVISION", target);
    if (rehearse) {
      p.env("SCHEMAGATE_REHEARSE", "true");
    }
    var outcome = p.run();
    assertThat(outcome.exitCode()).as(outcome.stderr()).isZero();
    return outcome;
  }

  /** Everything a rehearsal or a plan could leave: tables, columns, indexes, roles, history. */
  List<String> everything() throws SQLException {
    List<String> all = new ArrayList<>();
    all.addAll(
        rows(
            "SELECT table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns"
                + " WHERE table_schema = 'public' ORDER BY 1"));
    all.addAll(rows("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"));
    all.addAll(rows("SELECT rolname FROM pg_roles ORDER BY 1"));
    if (!rows("SELECT to_regclass('public.flyway_schema_history')::text").contains(null)) {
      all.addAll(
          rows(
              "SELECT installed_rank || ' ' || coalesce(version, '') || ' ' || success"
                  + " FROM flyway_schema_history ORDER BY installed_rank"));
    }
    return all;
  }

  static JsonNode result(RunnerProcess.Outcome outcome) throws IOException {
    assertThat(outcome.result().getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(Report.MAX_BYTES);
    return JSON.readTree(outcome.result());
  }

  @Test
  void planListsThePendingMigrationsWithTheirChecksumsAndChangesNothing() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    List<String> before = everything();

    var outcome = plan("latest", false);
    JsonNode result = result(outcome);
    assertThat(result.path("direction").asText()).isEqualTo("plan");
    assertThat(result.path("fromRevision").asText()).isEqualTo("2");
    assertThat(result.path("toRevision").asText()).isEqualTo("4");
    JsonNode plan = result.path("plan");
    assertThat(plan.path("hash").asText()).matches("[0-9a-f]{16}");
    assertThat(plan.path("pending").findValuesAsText("revision")).containsExactly("3", "4");
    assertThat(plan.path("pending").findValuesAsText("description"))
        .containsExactly("add display name", "display name required");
    assertThat(plan.path("pending").get(0).path("checksum").isInt()).isTrue();
    assertThat(plan.path("sql").asText())
        .contains("-- 3 add display name", "ALTER TABLE app_user ADD COLUMN display_name TEXT;");
    assertThat(plan.path("sqlTruncated").asBoolean()).isFalse();
    assertThat(plan.has("rehearsal")).isFalse();
    assertThat(outcome.stdout()).contains("ALTER TABLE app_user ADD COLUMN display_name TEXT;");
    assertThat(everything()).isEqualTo(before);

    // the same database and migrations: the same hash; another state: another hash
    String hash = plan.path("hash").asText();
    assertThat(result(plan("latest", false)).path("plan").path("hash").asText()).isEqualTo(hash);
    assertThat(result(plan("3", false)).path("plan").path("hash").asText()).isNotEqualTo(hash);
    assertThat(runner().run("migrate", "--target", "3").exitCode()).isZero();
    JsonNode after = result(plan("latest", false)).path("plan");
    assertThat(after.path("hash").asText()).isNotEqualTo(hash);
    assertThat(after.path("pending").findValuesAsText("revision")).containsExactly("4");
  }

  @Test
  void aChangedMigrationChangesTheHash() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    String hash = result(plan("latest", false)).path("plan").path("hash").asText();
    Files.writeString(
        migrations.resolve("V4__display_name_required.sql"),
        "ALTER TABLE app_user ALTER COLUMN display_name SET NOT NULL; -- moved tag\n");
    assertThat(result(plan("latest", false)).path("plan").path("hash").asText()).isNotEqualTo(hash);
  }

  @Test
  void theApprovedPlanRunsAndAStaleOneAppliesNothing() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    String hash = result(plan("latest", false)).path("plan").path("hash").asText();
    // someone migrates to 3 by hand after the plan was approved
    assertThat(runner().run("migrate", "--target", "3").exitCode()).isZero();
    List<String> before = everything();
    var stale =
        runner()
            .env("SCHEMAGATE_DIRECTION", "upgrade")
            .env("SCHEMAGATE_TARGET_REVISION", "latest")
            .env("SCHEMAGATE_APPROVED_PLAN", hash)
            .run();
    assertThat(stale.exitCode()).isEqualTo(ExitCode.PLAN_CHANGED);
    assertThat(stale.result()).contains("\"error\":\"PlanChanged\"", "nothing was applied");
    assertThat(everything()).isEqualTo(before);

    String now = result(plan("latest", false)).path("plan").path("hash").asText();
    var approved =
        runner()
            .env("SCHEMAGATE_DIRECTION", "upgrade")
            .env("SCHEMAGATE_TARGET_REVISION", "latest")
            .env("SCHEMAGATE_APPROVED_PLAN", now)
            .run();
    assertThat(approved.exitCode()).as(approved.stderr()).isZero();
    assertThat(approved.result()).contains("\"toRevision\":\"4\"");
  }

  @Test
  void thePlansSqlIsRedactedAndItsResultCapped() throws Exception {
    Files.writeString(
        migrations.resolve("V5__reporting_role.sql"),
        "CREATE ROLE reporter LOGIN PASSWORD 'Tr0ub4dor&3-plan';\n");
    StringBuilder big = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      big.append("COMMENT ON TABLE app_user IS 'a long review text, line ")
          .append(i)
          .append("';\n");
    }
    Files.writeString(migrations.resolve("V6__long_comments.sql"), big.toString());
    var outcome = plan("latest", false);
    JsonNode plan = result(outcome).path("plan");
    assertThat(outcome.everything()).doesNotContain("Tr0ub4dor");
    assertThat(plan.path("sql").asText()).contains("CREATE ROLE reporter LOGIN PASSWORD");
    assertThat(plan.path("sqlTruncated").asBoolean()).isTrue();
    assertThat(plan.path("sqlBytes").asInt()).isGreaterThan(Report.MAX_BYTES);
    assertThat(plan.path("pending").findValuesAsText("revision"))
        .containsExactly("1", "2", "3", "4", "5", "6");
    assertThat(outcome.stdout()).contains("line 399");
  }

  @Test
  void aGoodRehearsalReportsItsDurationAndLeavesNothing() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    execute("INSERT INTO app_user (name, email) VALUES ('ada', 'ada@example.com')");
    Files.writeString(
        migrations.resolve("V5__reporting_role.sql"),
        "CREATE ROLE reporter_rehearsed LOGIN PASSWORD 'Tr0ub4dor&3-plan';\n"
            + "CREATE TABLE audit (id bigserial PRIMARY KEY, what text);\n");
    List<String> before = everything();
    var outcome = plan("latest", true);
    JsonNode rehearsal = result(outcome).path("plan").path("rehearsal");
    assertThat(rehearsal.path("outcome").asText()).isEqualTo("Succeeded");
    assertThat(rehearsal.path("durationMs").isNumber()).isTrue();
    assertThat(rehearsal.path("notRehearsed").size()).isZero();
    assertThat(rehearsal.path("lockWaits").size()).isZero();
    assertThat(outcome.stderr()).contains("rehearsal succeeded in");
    assertThat(outcome.everything()).doesNotContain("Tr0ub4dor");
    assertThat(everything()).isEqualTo(before);
  }

  @Test
  void aFailingRehearsalIsReportedWithNothingLeft() throws Exception {
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    Files.writeString(
        migrations.resolve("V5__audit.sql"),
        "CREATE TABLE audit (id bigserial PRIMARY KEY, what text);\n"
            + "ALTER TABLE app_user ADD COLUMN email_verified boolean;\n");
    Files.writeString(
        migrations.resolve("V6__broken.sql"), "ALTER TABLE no_such_table ADD COLUMN x int;\n");
    List<String> before = everything();
    JsonNode rehearsal = result(plan("latest", true)).path("plan").path("rehearsal");
    assertThat(rehearsal.path("outcome").asText()).isEqualTo("Failed");
    assertThat(rehearsal.path("failedRevision").asText()).isEqualTo("6");
    assertThat(rehearsal.path("message").asText())
        .contains("6 broken failed", "no_such_table", "does not exist");
    assertThat(everything()).isEqualTo(before);
  }

  @Test
  void aMigrationOutsideATransactionIsNotRehearsed() throws Exception {
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    Files.writeString(
        migrations.resolve("V5__audit.sql"),
        "CREATE TABLE audit (id bigserial PRIMARY KEY, what text);\n");
    Files.writeString(
        migrations.resolve("V6__index_names.sql"),
        "CREATE INDEX CONCURRENTLY app_user_name_idx ON app_user (name);\n");
    Files.writeString(
        migrations.resolve("V6__index_names.sql.conf"), "executeInTransaction=false\n");
    List<String> before = everything();
    JsonNode plan = result(plan("latest", true)).path("plan");
    assertThat(plan.path("pending").get(1).path("transactional").asBoolean(true)).isFalse();
    JsonNode rehearsal = plan.path("rehearsal");
    assertThat(rehearsal.path("outcome").asText()).isEqualTo("Succeeded");
    assertThat(rehearsal.path("notRehearsed").get(0).asText()).isEqualTo("6 index names");
    assertThat(everything()).isEqualTo(before);
  }

  @Test
  void aRehearsalNamesTheSessionItWaitedForAndWaitsNoLongerThanTheLockTimeout() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    List<String> before = everything();
    try (LongTransaction report = new LongTransaction(database, "app_user", "nightly-report")) {
      var outcome =
          runner()
              .env("SCHEMAGATE_DIRECTION", "plan")
              .env("SCHEMAGATE_TARGET_REVISION", "3")
              .env("SCHEMAGATE_REHEARSE", "true")
              .env("SCHEMAGATE_LOCK_TIMEOUT", "1s")
              .run();
      assertThat(outcome.exitCode()).as(outcome.stderr()).isZero();
      JsonNode rehearsal = result(outcome).path("plan").path("rehearsal");
      assertThat(rehearsal.path("outcome").asText()).isEqualTo("Failed");
      assertThat(rehearsal.path("failedRevision").asText()).isEqualTo("3");
      assertThat(rehearsal.path("message").asText()).contains("lock timeout");
      assertThat(rehearsal.path("lockWaits").findValuesAsText("holder"))
          .anySatisfy(
              h ->
                  assertThat(h)
                      .contains("pid " + report.pid, "application \"nightly-report\"")
                      .contains("holds AccessShareLock"));
    }
    assertThat(everything()).isEqualTo(before);
  }

  @Test
  void aBadTargetIsAConfigurationErrorWithAResult() throws Exception {
    var outcome =
        runner().env("SCHEMAGATE_DIRECTION", "plan").env("SCHEMAGATE_TARGET_REVISION", "99").run();
    assertThat(outcome.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(outcome.result())
        .contains(
            "\"direction\":\"plan\"", "\"error\":\"InvalidConfiguration\"", "target version 99");
  }
}
