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
import org.flywaydb.core.internal.exception.FlywayMigrateException;

/** The operations, on Flyway and the schema history table. */
final class Migrations {
  static final Set<String> LATEST = Set.of("latest", "head");
  static final String LOCK_NOT_AVAILABLE = "55P03";
  static final String QUERY_CANCELED = "57014";

  private final DatabaseSettings db;
  private final RunnerSettings settings;
  private final LockRetry retry;
  private final Progress progress;
  private final Flyway flyway;

  Migrations(DatabaseSettings db, RunnerSettings settings, String target, boolean ignorePending) {
    this.db = db;
    this.settings = settings;
    this.retry =
        new LockRetry(
            settings, new LockRetry.Deadline(settings.deadlineSeconds(), Runner.STARTED_MILLIS));
    this.progress = new Progress(settings, retry);
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
    // Flyway's session lock, not its transaction-level one: a transaction Flyway keeps open would
    // make CREATE INDEX CONCURRENTLY wait for it forever.
    config
        .getConfigurationExtension(
            org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension.class)
        .setTransactionalLock(false);
    if (target != null) {
      config.target(LATEST.contains(target) ? "latest" : target);
    }
    if (ignorePending) {
      config.ignoreMigrationPatterns("*:pending");
    }
    this.flyway = config.load();
  }

  /**
   * Runs the operation under the runner lock (bounded wait), with the connection retry and the lock
   * watch.
   */
  <T> T locked(java.util.function.Function<LockWatch, T> operation) {
    Connection connection = Connections.open(db, settings);
    try (RunLock lock =
            RunLock.acquire(
                connection, settings.schema(), settings.table(), settings.runLockWaitMs());
        LockWatch watch = new LockWatch(Connections.open(db, settings))) {
      progress.watch(watch);
      return operation.apply(watch);
    } finally {
      progress.watch(null);
    }
  }

  /**
   * The managed schema's fingerprint (the history table left out), after a run, under its lock;
   * null, with a warning, when it cannot be read: the run itself succeeded.
   */
  SchemaFingerprint fingerprintOrNull() {
    long start = System.nanoTime();
    try (Connection c = Connections.open(db, settings)) {
      SchemaFingerprint schema = SchemaFingerprint.read(c, settings.schema(), settings.table());
      Console.info(
          "schema "
              + settings.schema()
              + ": fingerprint "
              + schema.fingerprint()
              + " of "
              + schema.tables().size()
              + " table(s), read in "
              + (System.nanoTime() - start) / 1_000_000
              + " ms");
      return schema;
    } catch (SQLException | RunnerException e) {
      Console.warn("could not read the schema's fingerprint: " + e.getMessage());
      return null;
    }
  }

  /**
   * The check: the current version and the schema's fingerprint, read without waiting for the
   * migration lock. A run that holds it before or after the read, or a version that moved during
   * it, means the schema read may be half-way: MIGRATION_RUNNING, naming the holder.
   */
  void check(Report report) throws SQLException {
    long key = RunLock.key(settings.schema(), settings.table());
    String why;
    try (Connection c = Connections.open(db, settings)) {
      String version = currentVersion();
      report.fromRevision = version;
      report.toRevision = version;
      String holder = RunLock.holder(c, key);
      SchemaFingerprint schema =
          holder == null ? SchemaFingerprint.read(c, settings.schema(), settings.table()) : null;
      if (holder == null) {
        holder = RunLock.holder(c, key);
      }
      String now = holder == null ? currentVersion() : version;
      if (holder == null && now.equals(version)) {
        report.schema = schema;
        return;
      }
      why =
          holder != null
              ? "a run holds the migration lock of "
                  + settings.schema()
                  + "."
                  + settings.table()
                  + ": "
                  + holder
              : "a run took the version from " + version + " to " + now + " during the check";
    }
    throw new RunnerException(
        ExitCode.MIGRATION_RUNNING,
        why
            + "; the check did not wait, reported no schema and changed nothing (the next check"
            + " runs when the run is done)",
        null,
        null);
  }

  String currentVersion() {
    MigrationInfo current = flyway.info().current();
    return current == null || current.getVersion() == null ? "" : current.getVersion().getVersion();
  }

  /**
   * migrate --target: up to exactly that version (or the newest). A migration that gives up on a
   * lock is rolled back by Flyway and run again (LockRetry); one that fails outside a transaction
   * is never run again by itself: the run ends with REPAIR_NEEDED and the repair steps.
   */
  void migrate(String target, Report report, LockWatch watch) {
    checkTarget(target);
    checkNoFailedMigration();
    report.fromRevision = currentVersion();
    try {
      while (true) {
        try {
          flyway.migrate();
          break;
        } catch (FlywayMigrateException e) {
          String version =
              e.getMigration() != null && e.getMigration().getVersion() != null
                  ? e.getMigration().getVersion().getVersion()
                  : progress.current();
          String name =
              progress.currentName() != null ? progress.currentName() : "migration " + version;
          if (!e.isExecutableInTransaction() || !progress.currentInTransaction()) {
            throw repairNeeded(name, version, sqlMessage(e), watch);
          }
          if (LOCK_NOT_AVAILABLE.equals(sqlState(e)) && settings.lockTimeoutMs() > 0) {
            int attempt = progress.retried(version);
            try {
              retry.afterTimeout(name, version, attempt, watch);
            } catch (RunnerException exhausted) {
              report.failedLockRetries = attempt;
              throw exhausted;
            }
            continue;
          }
          if (QUERY_CANCELED.equals(sqlState(e)) && settings.statementTimeoutMs() > 0) {
            throw new RunnerException(
                ExitCode.MIGRATION,
                name
                    + " ran longer than the statement timeout ("
                    + settings.statementTimeoutMs()
                    + " ms, SCHEMAGATE_STATEMENT_TIMEOUT) and was rolled back: "
                    + sqlMessage(e),
                version,
                e);
          }
          throw new RunnerException(
              ExitCode.MIGRATION,
              name + " failed and was rolled back: " + sqlMessage(e),
              version,
              e);
        }
      }
    } catch (FlywayValidateException e) {
      throw new RunnerException(
          ExitCode.VALIDATION,
          "validation failed, nothing was applied: " + e.getMessage(),
          null,
          e);
    } catch (RunnerException e) {
      throw e;
    } catch (FlywayException e) {
      if (progress.current() != null) {
        throw new RunnerException(
            ExitCode.MIGRATION,
            "migration " + progress.current() + " failed: " + e.getMessage(),
            progress.current(),
            e);
      }
      throw new RunnerException(ExitCode.CONFIGURATION, e.getMessage(), null, e);
    } finally {
      report.applied.addAll(progress.applied());
      report.toRevision = currentVersion();
    }
  }

  /** A migration that failed outside a transaction: what it may have left, and how to repair it. */
  private RunnerException repairNeeded(String name, String version, String error, LockWatch watch) {
    Set<String> left = new java.util.TreeSet<>(watch.invalidIndexes(settings.schema()));
    left.removeAll(progress.invalidBefore());
    boolean recorded =
        List.of(flyway.info().all()).stream()
            .anyMatch(
                m ->
                    m.getVersion() != null
                        && m.getVersion().getVersion().equals(version)
                        && m.getState().isFailed());
    StringBuilder steps = new StringBuilder();
    int n = 1;
    for (String index : left) {
      steps
          .append(" (")
          .append(n++)
          .append(") DROP INDEX CONCURRENTLY IF EXISTS ")
          .append(index)
          .append("; -- left INVALID by it");
    }
    if (recorded) {
      steps
          .append(" (")
          .append(n++)
          .append(") remove Flyway's failed row of ")
          .append(version)
          .append(": run this image with the argument repair (or ")
          .append(deleteFailedRow(version))
          .append(")");
    }
    steps
        .append(" (")
        .append(n)
        .append(") fix the script if the failure was in it, then run again.");
    return new RunnerException(
        ExitCode.REPAIR_NEEDED,
        name
            + " ran outside a transaction and failed part-way, so it is not retried: "
            + error
            + ". What it did before the failure stays. Repair by hand:"
            + steps,
        version,
        null);
  }

  private String deleteFailedRow(String version) {
    return "DELETE FROM "
        + quote(settings.schema())
        + "."
        + quote(settings.table())
        + " WHERE version = '"
        + version
        + "' AND NOT success";
  }

  /**
   * A failed migration in the history (only a migration outside a transaction leaves one on
   * PostgreSQL): repair first.
   */
  private void checkNoFailedMigration() {
    for (MigrationInfo m : flyway.info().applied()) {
      if (m.getState().isFailed() && m.getVersion() != null) {
        String version = m.getVersion().getVersion();
        Set<String> invalid = progressWatchInvalid();
        throw new RunnerException(
            ExitCode.REPAIR_NEEDED,
            "migration "
                + version
                + " "
                + m.getDescription()
                + " failed earlier outside a transaction (recorded as failed in "
                + settings.schema()
                + "."
                + settings.table()
                + "); nothing was run. Repair by hand: (1) undo what it left"
                + (invalid.isEmpty()
                    ? ""
                    : "; INVALID indexes in "
                        + settings.schema()
                        + " now: "
                        + String.join(", ", invalid)
                        + " (DROP INDEX CONCURRENTLY IF EXISTS <name>; for the ones it created)")
                + " (2) remove its failed row: run this image with the argument repair (or "
                + deleteFailedRow(version)
                + ") (3) run again.",
            version,
            null);
      }
    }
  }

  private Set<String> progressWatchInvalid() {
    try (Connection c = Connections.open(db, settings);
        LockWatch w = new LockWatch(c)) {
      return w.invalidIndexes(settings.schema());
    } catch (SQLException e) {
      return Set.of();
    }
  }

  /**
   * repair: removes the failed rows of the schema history (what a migration outside a transaction
   * leaves when it fails).
   */
  List<String> removeFailedRows() {
    List<String> removed = new ArrayList<>();
    try (Connection c = Connections.open(db, settings);
        var s =
            c.prepareStatement(
                "DELETE FROM "
                    + quote(settings.schema())
                    + "."
                    + quote(settings.table())
                    + " WHERE NOT success RETURNING coalesce(version, '') || ' ' || description")) {
      try (var rs = s.executeQuery()) {
        while (rs.next()) {
          removed.add(rs.getString(1));
        }
      }
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return removed;
      }
      throw new RunnerException(
          ExitCode.MIGRATION, "could not remove the failed rows: " + e.getMessage(), null, e);
    }
    return removed;
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  static String sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return e instanceof FlywayMigrateException m ? m.getSqlState() : null;
  }

  void checkTarget(String target) {
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
  void undo(String target, Report report, LockWatch watch) {
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
      int pid;
      try (var s = connection.createStatement();
          var rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
      }
      for (UndoScripts.Script script : scripts) {
        String name = "undo of " + script.version() + " " + script.description();
        long start = System.nanoTime();
        int attempt = 0;
        for (; ; attempt++) {
          watch.watch(pid, name);
          try {
            UndoScripts.apply(
                connection,
                script,
                settings.schema(),
                settings.table(),
                retry.timeoutFor(attempt),
                settings.statementTimeoutMs());
            break;
          } catch (RunnerException e) {
            if (!LOCK_NOT_AVAILABLE.equals(sqlState(e)) || settings.lockTimeoutMs() <= 0) {
              throw e;
            }
            try {
              retry.afterTimeout(name, script.version(), attempt, watch);
            } catch (RunnerException exhausted) {
              report.failedLockRetries = attempt;
              throw exhausted;
            }
          } finally {
            watch.pause();
          }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        Console.info(
            "undone    " + script.version() + " " + script.description() + " (" + ms + " ms)");
        report.applied.add(new Report.Applied(script.version(), script.description(), ms, attempt));
      }
    } catch (SQLException e) {
      throw new RunnerException(ExitCode.UNREACHABLE, e.getMessage(), null, e);
    } finally {
      report.toRevision = currentVersion();
    }
  }

  /** The versioned migrations a migrate to the configured target would apply, in order. */
  List<MigrationInfo> pending() {
    List<MigrationInfo> pending = new ArrayList<>();
    for (MigrationInfo m : flyway.info().all()) {
      if (m.getState() == org.flywaydb.core.api.MigrationState.PENDING) {
        pending.add(m);
      }
    }
    return pending;
  }

  /** The applied migrations of the schema history (successful or not), in their order. */
  List<MigrationInfo> applied() {
    return List.of(flyway.info().applied());
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
