package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.exception.FlywayValidateException;
import org.flywaydb.core.api.logging.LogFactory;
import org.flywaydb.core.api.output.ValidateResult;
import org.flywaydb.core.internal.exception.FlywayMigrateException;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;

/** The operations, on Flyway and the schema history table. */
final class Migrations {
  static final Set<String> LATEST = Set.of("latest", "head");
  static final String LOCK_NOT_AVAILABLE = "55P03";
  static final String QUERY_CANCELED = "57014";

  private final DatabaseSettings db;
  private final RunnerSettings settings;
  private final LockRetry retry;
  private final Progress progress;
  private final boolean ignorePending;
  private final Flyway flyway;

  Migrations(DatabaseSettings db, RunnerSettings settings, String target, boolean ignorePending) {
    this.db = db;
    this.settings = settings;
    this.retry =
        new LockRetry(
            settings, new LockRetry.Deadline(settings.deadlineSeconds(), Runner.STARTED_MILLIS));
    this.progress = new Progress(settings, retry);
    this.ignorePending = ignorePending;
    LogFactory.setLogCreator(new FlywayLog());
    this.flyway = load(target);
  }

  /** Flyway on the database and locations, migrating to the target (null: Flyway's default). */
  private Flyway load(String target) {
    var config =
        Flyway.configure()
            .dataSource(db.jdbcUrl(), db.user(), db.password())
            .locations(settings.locations())
            .schemas(settings.schema())
            .defaultSchema(settings.schema())
            .table(settings.table())
            // a contract migration may say so in its name: V6__drop_name.contract.sql (Kinds)
            .sqlMigrationSuffixes(Kinds.CONTRACT_SUFFIX, ".sql")
            .connectRetries(settings.connectRetries())
            .connectRetriesInterval(Math.max(1, settings.connectRetryMaxIntervalSeconds()))
            .cleanDisabled(true)
            .loggers(FlywayLog.class.getName())
            .callbacks(progress);
    if (settings.baseline() != null) {
      config.baselineVersion(settings.baseline());
    }
    // Flyway's session lock, not its transaction-level one: a transaction Flyway keeps open would
    // make CREATE INDEX CONCURRENTLY wait for it forever.
    config
        .getConfigurationExtension(PostgreSQLConfigurationExtension.class)
        .setTransactionalLock(false);
    if (target != null) {
      config.target(LATEST.contains(target) ? "latest" : target);
    }
    if (ignorePending) {
      config.ignoreMigrationPatterns("*:pending");
    }
    return config.load();
  }

  /**
   * Runs the operation under the runner lock (bounded wait), with the connection retry and the lock
   * watch.
   */
  <T> T locked(Function<LockWatch, T> operation) {
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
    adopt(target, report);
    checkNoFailedMigration();
    report.fromRevision = currentVersion();
    Flyway upTo = flyway;
    if (settings.holdContract()) {
      List<MigrationInfo> pending = pending();
      List<Kinds.Held> held = Kinds.fromFirstContract(pending);
      if (!held.isEmpty()) {
        report.held.addAll(held);
        String stop = lastBefore(pending, held.get(0).revision());
        Console.info(
            "holding back "
                + held.size()
                + " migration(s) from the contract migration "
                + held.get(0).revision()
                + " "
                + held.get(0).description()
                + " on (SCHEMAGATE_CONTRACT=hold): "
                + (stop == null ? "nothing to apply before it" : "migrating to " + stop));
        if (stop == null) {
          report.toRevision = report.fromRevision;
          return;
        }
        upTo = load(stop);
      }
    }
    try {
      while (true) {
        try {
          upTo.migrate();
          checkNoInvalidIndex(watch);
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

  /**
   * The version of the pending migration just before {@code version}, or null when it is the first.
   */
  private static String lastBefore(List<MigrationInfo> pending, String version) {
    String before = null;
    for (MigrationInfo m : pending) {
      if (m.getVersion() == null) {
        continue;
      }
      if (m.getVersion().getVersion().equals(version)) {
        return before;
      }
      before = m.getVersion().getVersion();
    }
    return before;
  }

  /**
   * A database to adopt: its schema holds objects, but there is no schema history. With a baseline
   * (SCHEMAGATE_BASELINE) the history is made with that version as Flyway's baseline, and only the
   * later migrations run; without one, nothing is changed (BASELINE_REQUIRED). The caller holds the
   * run lock.
   */
  void adopt(String target, Report report) {
    Adoption adoption = adoption();
    if (adoption == Adoption.NONE) {
      return;
    }
    if (target != null
        && !LATEST.contains(target)
        && version(settings.baseline()).isNewerThan(target)) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "the baseline "
              + settings.baseline()
              + " (SCHEMAGATE_BASELINE) is above the target "
              + target
              + "; nothing was changed");
    }
    flyway.baseline();
    report.baseline = settings.baseline();
    Console.info(
        "adopted the database: recorded "
            + settings.baseline()
            + " as the baseline in "
            + settings.schema()
            + "."
            + settings.table()
            + " (the schema held "
            + adoption.objects()
            + "); the migrations after it run");
  }

  /** SCHEMAGATE_BASELINE, or null. */
  String baseline() {
    return settings.baseline();
  }

  /** What adopting the database takes: nothing, or a baseline at SCHEMAGATE_BASELINE. */
  record Adoption(String objects) {
    static final Adoption NONE = new Adoption(null);
  }

  /**
   * Whether the database needs adopting, read now: NONE when it has a schema history or its schema
   * is empty; the objects it holds when it needs a baseline (SCHEMAGATE_BASELINE given); refused
   * with BASELINE_REQUIRED when it needs one and none was given.
   */
  Adoption adoption() {
    List<String> objects;
    try (Connection c = Connections.open(db, settings)) {
      if (historyExists(c)) {
        return Adoption.NONE;
      }
      objects = objects(c);
    } catch (SQLException e) {
      throw new RunnerException(ExitCode.UNREACHABLE, e.getMessage(), null, e);
    }
    if (objects.isEmpty()) {
      if (settings.baseline() != null) {
        Console.info(
            "the schema "
                + settings.schema()
                + " is empty: the baseline "
                + settings.baseline()
                + " is not needed; every migration runs");
      }
      return Adoption.NONE;
    }
    String named = describe(objects);
    if (settings.baseline() == null) {
      throw new RunnerException(
          ExitCode.BASELINE_REQUIRED,
          "the schema "
              + settings.schema()
              + " holds "
              + named
              + " but no history table "
              + settings.schema()
              + "."
              + settings.table()
              + ": which migrations made them cannot be known, and running them again would fail"
              + " on them or change them. Give the version the database is at as its baseline"
              + " (spec.baseline.revision; SCHEMAGATE_BASELINE): it is recorded, and only the"
              + " migrations after it run. Nothing was changed",
          null,
          null);
    }
    return new Adoption(named);
  }

  private boolean historyExists(Connection c) throws SQLException {
    try (var s = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      s.setString(1, quote(settings.schema()) + "." + quote(settings.table()));
      try (var rs = s.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** The tables, views, sequences and functions of the managed schema, by name. */
  private List<String> objects(Connection c) throws SQLException {
    List<String> objects = new ArrayList<>();
    try (var s =
        c.prepareStatement(
            "SELECT kind || ' ' || name FROM ("
                + " SELECT CASE r.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'"
                + "   WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind, r.relname AS name"
                + " FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace"
                + " WHERE n.nspname = ? AND r.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                + "   AND r.relname <> ?"
                + "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = r.oid"
                + "     AND d.deptype IN ('a', 'i') AND r.relkind = 'S')"
                + " UNION ALL"
                + " SELECT 'function', p.proname FROM pg_proc p"
                + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ?"
                + "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid"
                + "     AND d.deptype = 'e')"
                + ") o ORDER BY name")) {
      s.setString(1, settings.schema());
      s.setString(2, settings.table());
      s.setString(3, settings.schema());
      try (var rs = s.executeQuery()) {
        while (rs.next()) {
          objects.add(rs.getString(1));
        }
      }
    }
    return objects;
  }

  private static String describe(List<String> objects) {
    int shown = Math.min(objects.size(), 5);
    return objects.size()
        + (objects.size() == 1 ? " object (" : " objects (")
        + String.join(", ", objects.subList(0, shown))
        + (objects.size() > shown ? ", ..." : "")
        + ")";
  }

  /**
   * After migrations that ran outside a transaction succeeded: an INVALID index in the schema is
   * one a CREATE INDEX CONCURRENTLY left when it was interrupted (its pod evicted, the Job killed)
   * and that the run again skipped (IF NOT EXISTS). Flyway records the migration as applied, yet
   * the index does not work: RepairNeeded, never a silent success.
   */
  private void checkNoInvalidIndex(LockWatch watch) {
    List<String> outside = progress.appliedOutsideTransaction();
    if (outside.isEmpty()) {
      return;
    }
    Set<String> invalid = watch.invalidIndexes(settings.schema());
    if (invalid.isEmpty()) {
      return;
    }
    String version = outside.get(outside.size() - 1);
    StringBuilder steps = new StringBuilder();
    int n = 1;
    for (String index : invalid) {
      steps
          .append(" (")
          .append(n++)
          .append(") DROP INDEX CONCURRENTLY IF EXISTS ")
          .append(index)
          .append(";");
    }
    steps
        .append(" (")
        .append(n)
        .append(") DELETE FROM ")
        .append(quote(settings.schema()))
        .append(".")
        .append(quote(settings.table()))
        .append(" WHERE version IN (")
        .append(String.join(", ", outside.stream().map(v -> "'" + v + "'").toList()))
        .append("), so that it runs again; then run again.");
    throw new RunnerException(
        ExitCode.REPAIR_NEEDED,
        "migration "
            + String.join(", ", outside)
            + " ran outside a transaction and is recorded as applied, but the schema holds INVALID"
            + " index "
            + String.join(", ", invalid)
            + " (a CREATE INDEX CONCURRENTLY interrupted, then skipped by IF NOT EXISTS): it is"
            + " not used by any query. Repair by hand:"
            + steps,
        version,
        null);
  }

  /** A migration that failed outside a transaction: what it may have left, and how to repair it. */
  private RunnerException repairNeeded(String name, String version, String error, LockWatch watch) {
    Set<String> left = new TreeSet<>(watch.invalidIndexes(settings.schema()));
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
      checkNotAhead();
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

  /**
   * To the newest: a database above the newest migration this image has was migrated by a newer
   * image (an older one rolled back onto it, a Deployment's old ReplicaSet): "the newest" cannot be
   * reached from there, and Flyway would report it up to date (it ignores future migrations).
   */
  void checkNotAhead() {
    String current = currentVersion();
    if (current.isEmpty()) {
      return;
    }
    Optional<MigrationVersion> newest =
        Arrays.stream(flyway.info().all())
            // what this image has: a future migration is one the database has and the image not
            .filter(m -> m.getVersion() != null && m.getState().isResolved())
            .map(MigrationInfo::getVersion)
            .max(Comparator.naturalOrder());
    if (newest.isEmpty() || version(current).isNewerThan(newest.get().getVersion())) {
      throw new RunnerException(
          ExitCode.DATABASE_AHEAD,
          "the database is at "
              + current
              + ", above the newest migration in "
              + String.join(",", settings.locations())
              + " ("
              + newest.map(MigrationVersion::getVersion).orElse("none")
              + "): a newer image migrated it; run that image, or go down to a revision this"
              + " image has (undo, with the newer image)");
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
    java.util.Map<String, String> kinds = new java.util.HashMap<>();
    for (MigrationInfo m : all()) {
      if (m.getVersion() != null && m.getPhysicalLocation() != null) {
        kinds.putIfAbsent(m.getVersion().getVersion(), Kinds.of(m));
      }
    }
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
        report.applied.add(
            new Report.Applied(
                script.version(),
                script.description(),
                ms,
                attempt,
                kinds.getOrDefault(script.version(), Kinds.EXPAND)));
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
      if (m.getState() == MigrationState.PENDING) {
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

  ValidateResult validate() {
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
