package dev.schemagate.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;

/**
 * The {@code U<version>__<description>.sql} scripts that take a versioned migration back, and
 * running one: its SQL and the removal of the version's row from the schema history, in one
 * transaction, so that Flyway sees the version as pending again.
 */
final class UndoScripts {
  private static final Pattern NAME = Pattern.compile("^U([0-9][0-9._]*)__(.+)\\.sql$");

  record Script(String version, String description, Path file) {}

  private UndoScripts() {}

  /** The scripts for the migrations, in their order; refuses, naming them, when any is missing. */
  static List<Script> find(String[] locations, List<MigrationInfo> migrations) {
    List<Script> available = new ArrayList<>();
    for (String location : locations) {
      if (!location.startsWith("filesystem:")) {
        throw new RunnerException(
            ExitCode.CONFIGURATION,
            "undo reads U scripts from filesystem locations only, not " + location);
      }
      Path dir = Path.of(location.substring("filesystem:".length()));
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(dir)) {
        files
            .filter(Files::isRegularFile)
            .forEach(
                f -> {
                  Matcher m = NAME.matcher(f.getFileName().toString());
                  if (m.matches()) {
                    available.add(
                        new Script(m.group(1).replace('_', '.'), m.group(2).replace('_', ' '), f));
                  }
                });
      } catch (IOException e) {
        throw new RunnerException(
            ExitCode.CONFIGURATION, "cannot read " + dir + ": " + e.getMessage());
      }
    }
    List<Script> plan = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (MigrationInfo migration : migrations) {
      MigrationVersion version = migration.getVersion();
      available.stream()
          .filter(s -> MigrationVersion.fromVersion(s.version()).equals(version))
          .findFirst()
          .ifPresentOrElse(
              s -> plan.add(new Script(version.getVersion(), migration.getDescription(), s.file())),
              () -> missing.add(version.getVersion() + " (" + migration.getDescription() + ")"));
    }
    if (!missing.isEmpty()) {
      throw new RunnerException(
          ExitCode.VALIDATION,
          "nothing was undone: no undo script for "
              + String.join(", ", missing)
              + "; add U<version>__<description>.sql beside the V script");
    }
    return plan;
  }

  static void apply(
      Connection connection,
      Script script,
      String schema,
      String table,
      long lockTimeoutMs,
      long statementTimeoutMs)
      throws SQLException {
    String sql;
    try {
      sql = Files.readString(script.file(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION, "cannot read " + script.file() + ": " + e.getMessage());
    }
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Statement statement = connection.createStatement();
        PreparedStatement forget =
            connection.prepareStatement(
                "DELETE FROM " + quote(schema) + "." + quote(table) + " WHERE version = ?")) {
      statement.execute("SET LOCAL search_path TO " + quote(schema));
      statement.execute("SET LOCAL lock_timeout = " + lockTimeoutMs);
      statement.execute("SET LOCAL statement_timeout = " + statementTimeoutMs);
      statement.execute(sql);
      forget.setString(1, script.version());
      forget.executeUpdate();
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw new RunnerException(
          ExitCode.MIGRATION,
          "undo of " + script.version() + " failed and was rolled back: " + e.getMessage(),
          script.version(),
          e);
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }
}
