package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The runner on a live database: lock timeouts and retries, the bounded run lock, migrations
 * outside a transaction.
 */
class LiveDatabaseTest extends RunnerFixture {
  @Test
  void aLongTransactionIsWaitedOutAndTheAppNeverWaitsLongerThanTheLockTimeout() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    execute("INSERT INTO app_user (name) SELECT 'user ' || g FROM generate_series(1, 1000) g");
    try (AppLoad app =
        new AppLoad(
            database, "SELECT name FROM app_user WHERE id = 1 + (random() * 999)::int", 100, 4)) {
      Thread.sleep(500);
      LongTransaction report =
          new LongTransaction(database, "app_user", "nightly-report")
              .endAfterTheNextSessionHeldItFor(database, 3_000);
      var run = runner().env("SCHEMAGATE_LOCK_TIMEOUT", "1s").run("migrate", "--target", "3");
      Thread.sleep(300);
      List<Double> latencies = app.latencies();

      assertThat(run.exitCode()).as(run.stderr()).isZero();
      assertThat(run.millis()).as("it waited for the report to end").isGreaterThan(3_000);
      assertThat(run.stderr())
          .contains(
              "migration 3 add display name waits for AccessExclusiveLock on app_user, held by pid "
                  + report.pid,
              "application \"nightly-report\"",
              "idle in transaction",
              "holds AccessShareLock",
              "gave up on a lock after 50 ms (attempt 1 of 11), rolled back",
              "retrying migration 3 add display name when pid "
                  + report.pid
                  + " ends its transaction",
              "applied   3 add display name");
      assertThat(run.stderr()).doesNotContain("SELECT count(*)");
      assertThat(run.result()).contains("\"revision\":\"3\"", "\"toRevision\":\"3\"");
      // one retry once the report ended; on a busy machine an app query of the moment may cost one
      // more, which is the point of retrying
      assertThat(run.result()).containsPattern("\"revision\":\"3\",[^}]*\"lockRetries\":[1-9]");
      assertThat(versions()).containsExactly("1:true", "2:true", "3:true");
      assertThat(latencies)
          .as("the app ran all along")
          .hasSizeGreaterThan(300)
          .doesNotContain(-1.0);
      assertThat(AppLoad.max(latencies))
          .as("no query of the app waited as long as the lock timeout")
          .isLessThan(1_000);
    }
  }

  @Test
  void whenTheRetriesOrTheDeadlineRunOutItIsLockTimeoutAndThatMigrationIsRolledBack()
      throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    try (LongTransaction report = new LongTransaction(database, "app_user", "stuck-report")) {
      var noRetries =
          runner().env("SCHEMAGATE_LOCK_RETRIES", "0").run("migrate", "--target", "latest");
      assertThat(noRetries.exitCode()).as(noRetries.stderr()).isEqualTo(ExitCode.LOCK_TIMEOUT);
      assertThat(noRetries.result())
          .contains(
              "\"error\":\"LockTimeout\"",
              "\"failedRevision\":\"3\"",
              "\"toRevision\":\"2\"",
              "its 0 retries (SCHEMAGATE_LOCK_RETRIES) are used up",
              "pid " + report.pid,
              "stuck-report",
              "SELECT pg_terminate_backend(" + report.pid + ")");

      var deadline =
          runner().env("SCHEMAGATE_DEADLINE_SECONDS", "6").run("migrate", "--target", "latest");
      assertThat(deadline.exitCode()).as(deadline.stderr()).isEqualTo(ExitCode.LOCK_TIMEOUT);
      assertThat(deadline.result()).contains("the Job's deadline", "\"failedRevision\":\"3\"");
      assertThat(deadline.millis())
          .as("stops before the deadline, less its margin")
          .isLessThan(6_000);
    }
    assertThat(versions()).containsExactly("1:true", "2:true");
    assertThat(
            rows(
                "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'app_user' AND column_name = 'display_name'"))
        .containsExactly("0");
  }

  @Test
  void aSessionLeftHoldingTheRunLockFailsClearlyWithinTheBound() throws Exception {
    try (Connection leftBehind = Postgres.connect(database);
        Statement s = leftBehind.createStatement()) {
      s.execute("SET application_name = 'schemagate-runner shop/orders 1a2b3c'");
      s.execute("SELECT pg_advisory_lock(" + RunLock.key("public", "flyway_schema_history") + ")");
      int pid;
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
      }
      var run = runner().env("SCHEMAGATE_RUN_LOCK_WAIT", "2s").run("migrate", "--target", "latest");
      assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.RUN_LOCK_HELD);
      assertThat(run.millis()).as("bounded: 2 s of wait plus start-up").isLessThan(15_000);
      assertThat(run.stderr())
          .contains(
              "another run holds the migration lock of public.flyway_schema_history: pid " + pid);
      assertThat(run.result())
          .contains(
              "\"error\":\"MigrationLockHeld\"",
              "pid " + pid,
              "schemagate-runner shop/orders 1a2b3c",
              "connected since",
              "idle since",
              "nothing was run",
              "SELECT pg_terminate_backend(" + pid + ")");
      assertThat(
              rows(
                  "SELECT count(*)::text FROM information_schema.tables WHERE table_name IN ('app_user', 'flyway_schema_history')"))
          .containsExactly("0");
    }
    var after = runner().run("migrate", "--target", "latest");
    assertThat(after.exitCode())
        .as("the session gone, its lock went with it: " + after.stderr())
        .isZero();
  }

  @Test
  void createIndexConcurrentlyRunsOutsideATransaction() throws Exception {
    Files.writeString(
        migrations.resolve("V5__index_names.sql"),
        "CREATE INDEX CONCURRENTLY app_user_name_idx ON app_user (name);\n");
    Files.writeString(
        migrations.resolve("V5__index_names.sql.conf"), "executeInTransaction=false\n");
    Files.writeString(
        migrations.resolve("V6__index_created_at.sql"),
        "CREATE INDEX CONCURRENTLY app_user_created_at_idx ON app_user (created_at);\n");
    // A report open meanwhile: a CREATE INDEX CONCURRENTLY waits for it without a lock timeout (its
    // waits block no query of the app).
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    LongTransaction report =
        new LongTransaction(database, "app_user", "nightly-report").endAfter(1_500);
    var run = runner().env("SCHEMAGATE_LOCK_TIMEOUT", "200ms").run("migrate", "--target", "latest");
    report.close();
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(versions())
        .containsExactly("1:true", "2:true", "3:true", "4:true", "5:true", "6:true");
    assertThat(
            rows(
                "SELECT c.relname || ':' || i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    + " WHERE c.relname IN ('app_user_name_idx', 'app_user_created_at_idx') ORDER BY 1"))
        .containsExactly("app_user_created_at_idx:true", "app_user_name_idx:true");
  }

  /**
   * Issue 26, item 8: a pod evicted during CREATE INDEX CONCURRENTLY leaves an INVALID index and no
   * row in Flyway's history; the Job's next pod runs the migration again, and IF NOT EXISTS skips
   * the index. Before, that was exit 0 with the index unusable; now RepairNeeded with the steps.
   */
  @Test
  void anIndexAnEvictedRunLeftInvalidIsRepairNeededNotASilentSuccess() throws Exception {
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    // what the evicted pod left: the build interrupted (here by duplicates), the index INVALID
    execute("INSERT INTO app_user (name, display_name) VALUES ('ada', 'ada'), ('ada', 'ada 2')");
    assertThatThrownBy(
            () -> execute("CREATE UNIQUE INDEX CONCURRENTLY app_user_name_key ON app_user (name)"))
        .hasMessageContaining("could not create unique index");
    execute("DELETE FROM app_user WHERE display_name = 'ada 2'");
    Files.writeString(
        migrations.resolve("V5__unique_names.sql"),
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS app_user_name_key ON app_user (name);\n");
    Files.writeString(
        migrations.resolve("V5__unique_names.sql.conf"), "executeInTransaction=false\n");

    var rerun = runner().run("migrate", "--target", "latest");
    assertThat(rerun.exitCode()).as(rerun.stderr()).isEqualTo(ExitCode.REPAIR_NEEDED);
    assertThat(rerun.result())
        .contains(
            "\"error\":\"RepairNeeded\"",
            "\"failedRevision\":\"5\"",
            "migration 5 ran outside a transaction and is recorded as applied",
            "INVALID index app_user_name_key",
            "DROP INDEX CONCURRENTLY IF EXISTS app_user_name_key;",
            "WHERE version IN ('5'), so that it runs again");

    // the repair, as the message says; then the run builds the index
    execute("DROP INDEX CONCURRENTLY IF EXISTS app_user_name_key");
    execute("DELETE FROM flyway_schema_history WHERE version IN ('5')");
    var fixed = runner().run("migrate", "--target", "latest");
    assertThat(fixed.exitCode()).as(fixed.stderr()).isZero();
    assertThat(
            rows(
                "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'app_user_name_key'::regclass"))
        .containsExactly("true");
  }

  @Test
  void aFailedCreateIndexConcurrentlyIsRepairNeededWithTheExactSteps() throws Exception {
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    execute("INSERT INTO app_user (name, display_name) VALUES ('ada', 'ada'), ('ada', 'ada 2')");
    Files.writeString(
        migrations.resolve("V5__unique_names.sql"),
        "CREATE UNIQUE INDEX CONCURRENTLY app_user_name_key ON app_user (name);\n");
    Files.writeString(
        migrations.resolve("V5__unique_names.sql.conf"), "executeInTransaction=false\n");

    var run = runner().run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.REPAIR_NEEDED);
    assertThat(run.result())
        .contains(
            "\"error\":\"RepairNeeded\"",
            "\"failedRevision\":\"5\"",
            "ran outside a transaction and failed part-way, so it is not retried",
            "could not create unique index",
            "DROP INDEX CONCURRENTLY IF EXISTS app_user_name_key; -- left INVALID by it",
            "remove Flyway's failed row of 5: run this image with the argument repair",
            "DELETE FROM \\\"public\\\".\\\"flyway_schema_history\\\" WHERE version = '5' AND NOT success");
    assertThat(
            rows(
                "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'app_user_name_key'::regclass"))
        .containsExactly("false");
    assertThat(versions()).containsExactly("1:true", "2:true", "3:true", "4:true", "5:false");

    var again = runner().run("migrate", "--target", "latest");
    assertThat(again.exitCode())
        .as("never retried blindly: " + again.stderr())
        .isEqualTo(ExitCode.REPAIR_NEEDED);
    assertThat(again.result())
        .contains("failed earlier outside a transaction", "nothing was run", "app_user_name_key");

    // The repair, as the message says: the index, the duplicate, Flyway's row; then the run goes
    // through.
    execute("DROP INDEX CONCURRENTLY IF EXISTS app_user_name_key");
    execute("DELETE FROM app_user WHERE display_name = 'ada 2'");
    var repair = runner().run("repair");
    assertThat(repair.exitCode()).as(repair.stderr()).isZero();
    assertThat(repair.stderr()).contains("removed the failed row(s) of 5 unique names");
    var fixed = runner().run("migrate", "--target", "latest");
    assertThat(fixed.exitCode()).as(fixed.stderr()).isZero();
    assertThat(versions()).containsExactly("1:true", "2:true", "3:true", "4:true", "5:true");
  }

  @Test
  void aStatementTimeoutEndsALongMigrationWithoutARetry() throws Exception {
    Files.writeString(
        migrations.resolve("V3__add_display_name.sql"),
        "ALTER TABLE app_user ADD COLUMN display_name TEXT;\nSELECT pg_sleep(3);\n");
    var run = runner().env("SCHEMAGATE_STATEMENT_TIMEOUT", "500ms").run("migrate", "--target", "3");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.MIGRATION);
    assertThat(run.result())
        .contains("\"failedRevision\":\"3\"", "ran longer than the statement timeout (500 ms");
    assertThat(versions()).containsExactly("1:true", "2:true");
    var bad = runner().env("SCHEMAGATE_LOCK_TIMEOUT", "soon").run("migrate", "--target", "3");
    assertThat(bad.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(bad.stderr())
        .contains("SCHEMAGATE_LOCK_TIMEOUT must be a duration such as 500ms, 2s or 1m");
  }
}
