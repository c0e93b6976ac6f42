package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The runner against a real PostgreSQL, run as its own process. */
class RunnerTest extends RunnerFixture {
  @Test
  void migratesToAMiddleTargetThenToLatest() throws Exception {
    var middle = runner().run("migrate", "--target", "2");
    assertThat(middle.exitCode()).as(middle.stderr()).isZero();
    assertThat(history()).extracting(h -> h.split(" ")[0]).containsExactly("1", "2");
    assertThat(columns())
        .anyMatch(c -> c.startsWith("app_user.email"))
        .noneMatch(c -> c.startsWith("app_user.display_name"));
    assertThat(middle.result())
        .contains(
            "\"fromRevision\":\"\"",
            "\"toRevision\":\"2\"",
            "\"revision\":\"1\"",
            "\"revision\":\"2\"");
    assertThat(middle.stderr())
        .contains(
            "applied   1 create app user", "applied   2 add email", "done: applied 2 migration(s)");

    var latest = runner().run("migrate", "--target", "latest");
    assertThat(latest.exitCode()).as(latest.stderr()).isZero();
    assertThat(history()).extracting(h -> h.split(" ")[0]).containsExactly("1", "2", "3", "4");
    assertThat(latest.result()).contains("\"fromRevision\":\"2\"", "\"toRevision\":\"4\"");
    var again = runner().run("migrate", "--target", "latest");
    assertThat(again.exitCode()).isZero();
    assertThat(again.result()).contains("\"applied\":[]");
  }

  @Test
  void undoThenMigrateAgainEqualsAStraightRun() throws Exception {
    assertThat(runner().run("migrate", "--target", "latest").exitCode()).isZero();
    List<String> straightHistory = history();
    List<String> straightColumns = columns();

    var undo = runner().run("undo", "--target", "1");
    assertThat(undo.exitCode()).as(undo.stderr()).isZero();
    assertThat(history()).extracting(h -> h.split(" ")[0]).containsExactly("1");
    assertThat(columns()).noneMatch(c -> c.startsWith("app_user.email"));
    assertThat(undo.result())
        .contains("\"direction\":\"downgrade\"", "\"fromRevision\":\"4\"", "\"toRevision\":\"1\"");
    assertThat(undo.stderr()).containsSubsequence("undone    4", "undone    3", "undone    2");

    assertThat(runner().run("migrate", "--target", "latest").exitCode()).isZero();
    assertThat(history()).isEqualTo(straightHistory);
    assertThat(columns()).isEqualTo(straightColumns);
  }

  @Test
  void theJobContractWithoutArguments() throws Exception {
    var up =
        runner()
            .env("SCHEMAGATE_DIRECTION", "upgrade")
            .env("SCHEMAGATE_TARGET_REVISION", "3")
            .run();
    assertThat(up.exitCode()).as(up.stderr()).isZero();
    assertThat(history()).hasSize(3);
    var down =
        runner()
            .env("SCHEMAGATE_DIRECTION", "downgrade")
            .env("SCHEMAGATE_TARGET_REVISION", "2")
            .run();
    assertThat(down.exitCode()).as(down.stderr()).isZero();
    assertThat(history()).hasSize(2);
    var bad = runner().env("SCHEMAGATE_DIRECTION", "sideways").run();
    assertThat(bad.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
  }

  @Test
  void infoListsAppliedAndPendingAsJson() throws Exception {
    runner().run("migrate", "--target", "2");
    var info = runner().run("info");
    assertThat(info.exitCode()).as(info.stderr()).isZero();
    assertThat(info.stdout().strip()).startsWith("{").endsWith("}");
    assertThat(info.stdout())
        .contains(
            "\"current\":\"2\"",
            "\"version\":\"1\"",
            "\"state\":\"Success\"",
            "\"version\":\"4\"",
            "\"state\":\"Pending\"");
  }

  @Test
  void everyDatabaseUrlFormWorks() throws Exception {
    int port = Postgres.port();
    for (String url :
        List.of(
            "postgresql://postgres:pw@localhost:%d/%s",
            "postgres://postgres:pw@localhost:%d/%s",
            "postgresql+asyncpg://postgres:pw@localhost:%d/%s",
            "postgresql+psycopg2://postgres:pw@localhost:%d/%s",
            "jdbc:postgresql://localhost:%d/%s?user=postgres&password=pw")) {
      var info =
          new RunnerProcess(work)
              .env("DATABASE_URL", String.format(url, port, database))
              .env("SCHEMAGATE_LOCATIONS", migrations.toString())
              .run("info");
      assertThat(info.exitCode()).as(url + ": " + info.stderr()).isZero();
    }
    var split =
        new RunnerProcess(work)
            .env("DATABASE_URL", "postgresql://localhost:" + port + "/" + database)
            .env("DB_USER", "postgres")
            .env("DB_PASSWORD", "pw")
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .run("info");
    assertThat(split.exitCode()).as(split.stderr()).isZero();
    var libpq =
        new RunnerProcess(work)
            .env("PGHOST", "localhost")
            .env("PGPORT", Integer.toString(port))
            .env("PGDATABASE", database)
            .env("PGUSER", "postgres")
            .env("PGPASSWORD", "pw")
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .run("info");
    assertThat(libpq.exitCode()).as(libpq.stderr()).isZero();
    var none =
        new RunnerProcess(work).env("SCHEMAGATE_LOCATIONS", migrations.toString()).run("info");
    assertThat(none.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(none.stderr()).contains("DATABASE_URL");
  }

  @Test
  void aChecksumMismatchIsExit3AndNothingIsApplied() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    Files.writeString(
        migrations.resolve("V1__create_app_user.sql"),
        "\n-- edited after it was applied\n",
        java.nio.file.StandardOpenOption.APPEND);
    var run = runner().run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.VALIDATION);
    assertThat(run.result())
        .contains("\"error\":\"ValidationFailed\"")
        .containsIgnoringCase("checksum");
    assertThat(history()).hasSize(2);
    assertThat(runner().run("validate").exitCode()).isEqualTo(ExitCode.VALIDATION);
  }

  @Test
  void anAppliedMigrationMissingLocallyFailsValidation() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    Files.delete(migrations.resolve("V1__create_app_user.sql"));
    var validate = runner().run("validate");
    assertThat(validate.exitCode()).isEqualTo(ExitCode.VALIDATION);
    assertThat(validate.stderr()).contains("invalid 1");
  }

  /**
   * An older image (it has migrations 1 to 3) against a database a newer one took to 4, target
   * latest: not "up to date" (Flyway ignores future migrations), but DatabaseAhead, exit 12, and
   * nothing touched. The operator fails the run with that reason and is never Ready on it.
   */
  @Test
  void anOlderImageAgainstANewerDatabaseIsDatabaseAheadNotASuccess() throws Exception {
    assertThat(runner().run("migrate", "--target", "latest").exitCode()).isZero();
    Files.delete(migrations.resolve("V4__display_name_required.sql"));
    Files.delete(migrations.resolve("U4__display_name_required.sql"));
    var older = runner().run("migrate", "--target", "latest");
    assertThat(older.exitCode()).as(older.stderr()).isEqualTo(ExitCode.DATABASE_AHEAD);
    assertThat(older.result())
        .contains("\"error\":\"DatabaseAhead\"")
        .contains("the database is at 4, above the newest migration in")
        .contains("(3)");
    assertThat(versions()).containsExactly("1:true", "2:true", "3:true", "4:true");
    var head = runner().run("migrate", "--target", "head");
    assertThat(head.exitCode()).as("head is latest").isEqualTo(ExitCode.DATABASE_AHEAD);
    var pinned = runner().run("migrate", "--target", "3");
    assertThat(pinned.exitCode())
        .as("an explicit target below the database says so already")
        .isEqualTo(ExitCode.CONFIGURATION);
  }

  @Test
  void aFailingStatementIsExit4WithTheVersionAndItsTransactionRolledBack() throws Exception {
    assertThat(runner().run("migrate", "--target", "2").exitCode()).isZero();
    Files.writeString(
        migrations.resolve("V3__add_display_name.sql"),
        "CREATE TABLE half_done (id int);\nALTER TABLE app_user ADD COLUMN display_name TEXT;\nCREAT INDEX oops ON app_user (name);\n");
    var run = runner().run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.MIGRATION);
    assertThat(run.result())
        .contains(
            "\"failedRevision\":\"3\"", "\"error\":\"MigrationFailed\"", "\"toRevision\":\"2\"")
        .contains("syntax error");
    assertThat(
            rows(
                "SELECT count(*)::text FROM information_schema.tables WHERE table_name = 'half_done'"))
        .containsExactly("0");
    assertThat(columns()).noneMatch(c -> c.startsWith("app_user.display_name"));
    assertThat(history()).extracting(h -> h.split(" ")[0]).containsExactly("1", "2");
  }

  @Test
  void anUnreachableDatabaseIsExit5AfterTheBoundedRetry() throws Exception {
    var run =
        new RunnerProcess(work)
            .env("DATABASE_URL", "postgresql://postgres:pw@127.0.0.1:1/nowhere")
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .env("SCHEMAGATE_CONNECT_RETRIES", "2")
            .env("SCHEMAGATE_CONNECT_RETRY_MAX_INTERVAL_SECONDS", "1")
            .run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.UNREACHABLE);
    assertThat(run.stderr())
        .contains("attempt 2 of 3", "attempt 3 of 3", "unreachable after 3 attempts");
    assertThat(run.result()).contains("\"error\":\"DatabaseUnreachable\"");
    assertThat(run.millis()).as("bounded: 1 s + 1 s of backoff, plus start-up").isLessThan(30_000);
  }

  @Test
  void undoWithAMissingScriptRefusesBeforeTouchingAnything() throws Exception {
    assertThat(runner().run("migrate", "--target", "latest").exitCode()).isZero();
    List<String> before = columns();
    Files.delete(migrations.resolve("U3__add_display_name.sql"));
    var run = runner().run("undo", "--target", "1");
    assertThat(run.exitCode()).isEqualTo(ExitCode.VALIDATION);
    assertThat(run.stderr()).contains("no undo script for 3 (add display name)");
    assertThat(history()).hasSize(4);
    assertThat(columns()).isEqualTo(before);
  }

  @Test
  void twoRunnersAtOnceApplyEachMigrationExactlyOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<RunnerProcess.Outcome> a =
          pool.submit(() -> runner().run("migrate", "--target", "latest"));
      Future<RunnerProcess.Outcome> b =
          pool.submit(() -> runner().run("migrate", "--target", "latest"));
      assertThat(a.get().exitCode()).as(a.get().stderr()).isZero();
      assertThat(b.get().exitCode()).as(b.get().stderr()).isZero();
      assertThat(history()).extracting(h -> h.split(" ")[0]).containsExactly("1", "2", "3", "4");
      int applied = count(a.get().result()) + count(b.get().result());
      assertThat(applied).as("each migration applied once, by one of them").isEqualTo(4);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theResultStaysWithin4096BytesFor2000Migrations() throws Exception {
    Path many = work.resolve("many");
    Files.createDirectories(many);
    for (int i = 1; i <= 2000; i++) {
      Files.writeString(
          many.resolve("V" + i + "__create_table_number_" + i + "_with_a_long_description.sql"),
          "CREATE TABLE t" + i + " (id int);\n",
          StandardCharsets.UTF_8);
    }
    var run =
        runner().env("SCHEMAGATE_LOCATIONS", many.toString()).run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.result().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
    int listed = count(run.result());
    assertThat(run.result()).contains("\"omitted\":" + (2000 - listed), "\"toRevision\":\"2000\"");
    assertThat(listed).isGreaterThan(10);
  }

  @Test
  void aSentinelPasswordAppearsNowhere() throws Exception {
    String sentinel = "Sentinel-9f3b-PASSWORD";
    List<RunnerProcess.Outcome> outcomes = new ArrayList<>();
    String url =
        "postgresql+asyncpg://postgres:"
            + sentinel
            + "@localhost:"
            + Postgres.port()
            + "/"
            + database;
    outcomes.add(
        new RunnerProcess(work)
            .env("DATABASE_URL", url)
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .run("migrate", "--target", "2"));
    outcomes.add(
        new RunnerProcess(work)
            .env("DATABASE_URL", url)
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .run("info"));
    outcomes.add(
        new RunnerProcess(work)
            .env("DATABASE_URL", url)
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .env("SCHEMAGATE_DEBUG", "true")
            .run("migrate", "--target", "9"));
    Files.writeString(
        migrations.resolve("V3__add_display_name.sql"), "SELECT '" + sentinel + "'::int;\n");
    outcomes.add(
        new RunnerProcess(work)
            .env("DATABASE_URL", url)
            .env("SCHEMAGATE_LOCATIONS", migrations.toString())
            .env("SCHEMAGATE_DEBUG", "true")
            .run("migrate", "--target", "latest"));
    outcomes.add(
        new RunnerProcess(work)
            .env("DATABASE_URL", "postgresql://postgres:" + sentinel + "@127.0.0.1:1/x")
            .env("SCHEMAGATE_CONNECT_RETRIES", "0")
            .run("migrate", "--target", "latest"));
    outcomes.add(
        new RunnerProcess(work)
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", "1")
            .env("PGPASSWORD", sentinel)
            .env("SCHEMAGATE_CONNECT_RETRIES", "0")
            .run("info"));
    assertThat(outcomes.get(0).exitCode()).isZero();
    assertThat(outcomes.get(3).exitCode()).isEqualTo(ExitCode.MIGRATION);
    for (RunnerProcess.Outcome outcome : outcomes) {
      assertThat(outcome.everything()).doesNotContain(sentinel);
    }
    assertThat(outcomes.get(3).result()).contains(Secrets.MASK);
  }
}
