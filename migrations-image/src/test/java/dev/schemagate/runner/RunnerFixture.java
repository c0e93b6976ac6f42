package dev.schemagate.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the runner's tests share: a fresh database and a copy of the example migrations for each
 * test, the runner on them as a process of its own, and the queries that show what it did.
 */
abstract class RunnerFixture {
  static final Path EXAMPLES = Path.of("examples", "app_user");
  @TempDir Path work;
  Path migrations;
  String database;

  @BeforeEach
  void setUpDatabaseAndMigrations() throws IOException {
    database = Postgres.newDatabase();
    migrations = work.resolve("migrations");
    Files.createDirectories(migrations);
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      for (Path f : files.toList()) {
        Files.copy(f, migrations.resolve(f.getFileName()));
      }
    }
  }

  RunnerProcess runner() {
    return new RunnerProcess(work)
        .env(
            "DATABASE_URL",
            "postgresql://postgres:pw@localhost:" + Postgres.port() + "/" + database)
        .env("SCHEMAGATE_LOCATIONS", migrations.toString())
        .env("SCHEMAGATE_CONNECT_RETRIES", "1");
  }

  List<String> rows(String sql) throws SQLException {
    return Postgres.rows(database, sql);
  }

  void execute(String sql) throws SQLException {
    Postgres.execute(database, sql);
  }

  /** The schema history: version, description, checksum, success. */
  List<String> history() throws SQLException {
    return rows(
        "SELECT version || ' ' || description || ' ' || checksum || ' ' || success FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank");
  }

  /** The schema history as version:success. */
  List<String> versions() throws SQLException {
    return rows(
        "SELECT version || ':' || success FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank");
  }

  List<String> columns() throws SQLException {
    return rows(
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns"
            + " WHERE table_schema = 'public' AND table_name <> 'flyway_schema_history' ORDER BY 1");
  }

  /** How many revisions a result lists as applied. */
  static int count(String result) {
    return result.split("\"revision\"", -1).length - 1;
  }
}
