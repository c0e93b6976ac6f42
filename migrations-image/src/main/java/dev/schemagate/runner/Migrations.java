package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.logging.LogFactory;
import org.flywaydb.core.api.output.MigrateOutput;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.core.internal.exception.FlywayMigrateException;

/** The four operations, on Flyway and the schema history table. */
final class Migrations {
  static final Set<String> LATEST = Set.of("latest", "head");

  private final DatabaseSettings db;
  private final RunnerSettings settings;
  private final Progress progress = new Progress();
  private final Flyway flyway;

  Migrations(DatabaseSettings db, RunnerSettings settings, String target, boolean ignorePending) {
    this.db = db;
    this.settings = settings;
    LogFactory.setLogCreator(new FlywayLog());
    var config =
        Flyway.configure()
            .dataSource(db.jdbcUrl(), db.user(), db.password())
            .locations(settings.locations())
            .schemas(settings.schema())
            .defaultSchema(settings.schema())
            .table(settings.table())
            .connectRetries(settings.connectRetries())
            .connectRetriesInterval(Math.max(1, settings.connectRetryMaxIntervalSeconds()))
            .cleanDisabled(true)
            .loggers(FlywayLog.class.getName())
            .callbacks(progress);
    if (target != null) {
      config.target(LATEST.contains(target) ? "latest" : target);
    }
    if (ignorePending) {
      config.ignoreMigrationPatterns("*:pending");
    }
    this.flyway = config.load();
  }

  /** Runs the operation under the runner lock, with the connection retry. */
  <T> T locked(java.util.function.Supplier<T> operation) {
    Connection connection = Connections.open(db, settings);
    try (RunLock lock = RunLock.acquire(connection, settings.schema(), settings.table())) {
      return operation.get();
    }
  }

  String currentVersion() {
    MigrationInfo current = flyway.info().current();
    return current == null || current.getVersion() == null ? "" : current.getVersion().getVersion();
  }

  /** migrate --target: up to exactly that version (or the newest). */
  void migrate(String target, Report report) {
    checkTarget(target);
    report.fromRevision = currentVersion();
    try {
      MigrateResult result = flyway.migrate();
      for (MigrateOutput m : result.migrations) {
        report.applied.add(new Report.Applied(m.version, m.description, m.executionTime));
      }
    } catch (FlywayValidateException e) {
      throw new RunnerException(
          ExitCode.VALIDATION,
          "validation failed, nothing was applied: " + e.getMessage(),
          null,
          e);
    } catch (FlywayMigrateException e) {
      String version =
          e.getMigration() != null && e.getMigration().getVersion() != null
              ? e.getMigration().getVersion().getVersion()
              : progress.current();
      report.toRevision = currentVersion();
      throw new RunnerException(
          ExitCode.MIGRATION,
          "migration " + version + " failed and was rolled back: " + sqlMessage(e),
          version,
          e);
    } catch (FlywayException e) {
      report.toRevision = currentVersion();
      if (progress.current() != null) {
        throw new RunnerException(
            ExitCode.MIGRATION,
            "migration " + progress.current() + " failed: " + e.getMessage(),
            progress.current(),
            e);
      }
      throw new RunnerException(ExitCode.CONFIGURATION, e.getMessage(), null, e);
    }
    report.toRevision = currentVersion();
  }

  private void checkTarget(String target) {
    if (target == null || LATEST.contains(target)) {
      return;
    }
    MigrationVersion wanted = version(target);
    List<MigrationInfo> all = List.of(flyway.info().all());
    boolean known = all.stream().anyMatch(m -> wanted.equals(m.getVersion()));
    if (!known) {
      String newest =
          all.stream()
              .map(MigrationInfo::getVersion)
              .filter(v -> v != null)
              .max(Comparator.naturalOrder())
              .map(MigrationVersion::getVersion)
              .orElse("none");
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "target "
              + target
              + " is not a migration in "
              + String.join(",", settings.locations())
              + " (newest: "
              + newest
              + ")");
    }
    String current = currentVersion();
    if (!current.isEmpty() && version(current).isNewerThan(wanted.getVersion())) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "the database is at "
              + current
              + ", above the target "
              + target
              + ": migrate does not go down; run undo --target "
              + target);
    }
  }

  /** undo --target: the U scripts of every applied version above the target, newest first. */
  void undo(String target, Report report) {
    if (target == null || LATEST.contains(target)) {
      throw new RunnerException(
          ExitCode.CONFIGURATION, "undo needs --target <version>, the version to go down to");
    }
    MigrationVersion wanted = version(target);
    report.fromRevision = currentVersion();
    List<MigrationInfo> toUndo = new ArrayList<>();
    for (MigrationInfo m : flyway.info().applied()) {
      if (m.getVersion() != null
          && m.getState().isApplied()
          && !m.getState().isFailed()
          && m.getVersion().isNewerThan(wanted.getVersion())) {
        toUndo.add(m);
      }
    }
    toUndo.sort(Comparator.comparing(MigrationInfo::getVersion).reversed());
    List<UndoScripts.Script> scripts = UndoScripts.find(settings.locations(), toUndo);
    try (Connection connection = Connections.open(db, settings)) {
      for (UndoScripts.Script script : scripts) {
        long start = System.nanoTime();
        UndoScripts.apply(connection, script, settings.schema(), settings.table());
        long ms = (System.nanoTime() - start) / 1_000_000;
        Console.info(
            "undone    " + script.version() + " " + script.description() + " (" + ms + " ms)");
        report.applied.add(new Report.Applied(script.version(), script.description(), ms));
      }
    } catch (SQLException e) {
      throw new RunnerException(ExitCode.UNREACHABLE, e.getMessage(), null, e);
    } finally {
      report.toRevision = currentVersion();
    }
  }

  MigrationInfo[] all() {
    return flyway.info().all();
  }

  org.flywaydb.core.api.output.ValidateResult validate() {
    return flyway.validateWithResult();
  }

  static MigrationVersion version(String text) {
    try {
      return MigrationVersion.fromVersion(text);
    } catch (RuntimeException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "target \"" + text + "\" is not a version such as 3 or 1.2, nor latest");
    }
  }

  private static String sqlMessage(FlywayMigrateException e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String text = t.getMessage() == null ? e.getMessage() : t.getMessage();
    return text.strip();
  }
}
