package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * Around each migration Flyway runs: sets its session's lock_timeout and statement_timeout (a
 * migration in a transaction gets the attempt's lock timeout; one outside a transaction, such as
 * CREATE INDEX CONCURRENTLY, gets neither: its waits block no query of the app, and a timeout would
 * only leave an INVALID index), points the lock watch at its session, logs one line per migration,
 * and keeps what was applied and how many lock retries each took.
 */
final class Progress implements Callback {
  private final RunnerSettings settings;
  private final LockRetry retry;
  private volatile LockWatch watch;
  private final Map<String, Integer> retries = new HashMap<>();
  private final List<Report.Applied> applied = new ArrayList<>();
  private final List<String> appliedOutsideTransaction = new ArrayList<>();
  private volatile String current;
  private volatile String currentName;
  private volatile boolean currentInTransaction = true;
  private volatile Set<String> invalidBefore = Set.of();
  private volatile long startedNanos;

  Progress(RunnerSettings settings, LockRetry retry) {
    this.settings = settings;
    this.retry = retry;
  }

  void watch(LockWatch watch) {
    this.watch = watch;
  }

  String current() {
    return current;
  }

  String currentName() {
    return currentName;
  }

  boolean currentInTransaction() {
    return currentInTransaction;
  }

  Set<String> invalidBefore() {
    return invalidBefore;
  }

  int retries(String version) {
    return retries.getOrDefault(version, 0);
  }

  /** Counts one more lock retry of a migration; returns how many it has had before this one. */
  int retried(String version) {
    return retries.merge(version, 1, Integer::sum) - 1;
  }

  /** The versions this run applied outside a transaction (CREATE INDEX CONCURRENTLY...). */
  List<String> appliedOutsideTransaction() {
    return appliedOutsideTransaction;
  }

  List<Report.Applied> applied() {
    return applied;
  }

  @Override
  public boolean supports(Event event, Context context) {
    return event == Event.BEFORE_EACH_MIGRATE
        || event == Event.AFTER_EACH_MIGRATE
        || event == Event.AFTER_EACH_MIGRATE_ERROR;
  }

  @Override
  public boolean canHandleInTransaction(Event event, Context context) {
    return true;
  }

  @Override
  public void handle(Event event, Context context) {
    MigrationInfo info = context.getMigrationInfo();
    String version =
        info == null || info.getVersion() == null ? null : info.getVersion().getVersion();
    String name =
        info == null ? "?" : (version == null ? "" : version + " ") + info.getDescription();
    switch (event) {
      case BEFORE_EACH_MIGRATE -> {
        current = version;
        currentName = "migration " + name;
        startedNanos = System.nanoTime();
        prepare(context.getConnection(), version);
      }
      case AFTER_EACH_MIGRATE -> {
        pause();
        long ms = (System.nanoTime() - startedNanos) / 1_000_000;
        int n = version == null ? 0 : retries(version);
        Console.info(
            "applied   "
                + name
                + " ("
                + ms
                + " ms"
                + (n > 0 ? ", after " + n + " lock retr" + (n == 1 ? "y" : "ies") : "")
                + ")");
        applied.add(
            new Report.Applied(
                version,
                info == null ? "" : info.getDescription(),
                ms,
                n,
                info == null ? null : Kinds.of(info)));
        if (!currentInTransaction && version != null) {
          appliedOutsideTransaction.add(version);
        }
        current = null;
      }
      default -> {
        pause();
        Console.error(
            "failed    "
                + name
                + " after "
                + (System.nanoTime() - startedNanos) / 1_000_000
                + " ms"
                + (currentInTransaction
                    ? "; its transaction is rolled back"
                    : "; it ran outside a transaction"));
      }
    }
  }

  private void pause() {
    LockWatch w = watch;
    if (w != null) {
      w.pause();
    }
  }

  private void prepare(Connection connection, String version) {
    try (Statement s = connection.createStatement()) {
      currentInTransaction = !connection.getAutoCommit();
      long lockTimeout =
          currentInTransaction ? retry.timeoutFor(version == null ? 0 : retries(version)) : 0;
      long statementTimeout = currentInTransaction ? settings.statementTimeoutMs() : 0;
      s.execute("SET lock_timeout = " + lockTimeout);
      s.execute("SET statement_timeout = " + statementTimeout);
      LockWatch w = watch;
      if (w != null) {
        if (!currentInTransaction) {
          invalidBefore = w.invalidIndexes(settings.schema());
        }
        try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
          rs.next();
          w.watch(rs.getInt(1), currentName);
        }
      }
    } catch (SQLException e) {
      throw new RunnerException(
          ExitCode.MIGRATION,
          "could not prepare " + currentName + ": " + e.getMessage(),
          version,
          e);
    }
  }

  @Override
  public String getCallbackName() {
    return "schemagate-progress";
  }
}
