package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * A PostgreSQL session advisory lock that serializes schemagate runners on one schema history
 * table: two runners started at once run one after the other, and the second finds the work done.
 * The wait is bounded (SCHEMAGATE_RUN_LOCK_WAIT): past it the run fails with RUN_LOCK_HELD, naming
 * the session that holds the lock, instead of sleeping until the Job's deadline. A session left
 * behind by a pod killed mid-migration keeps the lock until the server notices it is gone.
 */
final class RunLock implements AutoCloseable {
  static final long POLL_MS = 250;
  static final long LOG_EVERY_MS = 10_000;
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());
  private final Connection connection;
  private final long key;

  private RunLock(Connection connection, long key) {
    this.connection = connection;
    this.key = key;
  }

  static long key(String schema, String table) {
    return 0x5c4e3a6a7e000000L ^ (schema + "." + table).hashCode();
  }

  static RunLock acquire(Connection connection, String schema, String table, long waitMs) {
    long key = key(schema, table);
    long start = System.currentTimeMillis();
    long logged = 0;
    String holder = null;
    try (PreparedStatement lock = connection.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
      lock.setLong(1, key);
      while (true) {
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            if (holder != null) {
              Console.info(
                  "took the migration lock after " + (System.currentTimeMillis() - start) + " ms");
            }
            return new RunLock(connection, key);
          }
        }
        long waited = System.currentTimeMillis() - start;
        String now = holder(connection, key);
        if (now != null) {
          holder = now;
        }
        if (waited >= waitMs) {
          break;
        }
        if (logged == 0 || waited - logged >= LOG_EVERY_MS) {
          Console.warn(
              "another run holds the migration lock of "
                  + schema
                  + "."
                  + table
                  + ": "
                  + (holder == null ? "a session" : holder)
                  + "; waiting ("
                  + waited / 1000
                  + " s of at most "
                  + waitMs / 1000
                  + " s, SCHEMAGATE_RUN_LOCK_WAIT)");
          logged = Math.max(1, waited);
        }
        LockRetry.sleep(Math.min(POLL_MS, Math.max(1, waitMs - waited)));
      }
    } catch (SQLException e) {
      close(connection);
      throw new RunnerException(
          ExitCode.UNREACHABLE, "could not take the migration lock: " + e.getMessage(), null, e);
    }
    close(connection);
    String pid = holder == null ? null : holder.substring(4, holder.indexOf(' ', 4));
    throw new RunnerException(
        ExitCode.RUN_LOCK_HELD,
        "another run held the migration lock of "
            + schema
            + "."
            + table
            + " for longer than "
            + waitMs / 1000
            + " s (SCHEMAGATE_RUN_LOCK_WAIT); nothing was run. Held by "
            + (holder == null ? "a session that has since gone" : holder)
            + ". If that run is still going, run again when it is done; if it is gone (a pod killed mid-migration leaves its"
            + " session until the server notices), end the session"
            + (pid == null ? "" : ": SELECT pg_terminate_backend(" + pid + ")"),
        null,
        null);
  }

  /** Who holds the advisory lock: pid, user, application, client, connected since, state since. */
  static String holder(Connection connection, long key) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT a.pid, a.usename, a.application_name, a.client_addr::text, a.backend_start, a.state, a.state_change"
                + " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                + " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                + " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND l.classid::bigint = ? AND l.objid::bigint = ?")) {
      s.setLong(1, (key >>> 32) & 0xffffffffL);
      s.setLong(2, key & 0xffffffffL);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        StringBuilder out =
            new StringBuilder("pid ")
                .append(rs.getInt(1))
                .append(" (user ")
                .append(rs.getString(2))
                .append(", application \"")
                .append(rs.getString(3) == null ? "" : rs.getString(3))
                .append('"');
        if (rs.getString(4) != null) {
          out.append(", from ").append(rs.getString(4));
        }
        out.append(", connected since ").append(time(rs.getTimestamp(5)));
        out.append(", ")
            .append(rs.getString(6) == null ? "state unknown" : rs.getString(6))
            .append(" since ")
            .append(time(rs.getTimestamp(7)));
        return out.append(')').toString();
      }
    }
  }

  private static String time(Timestamp t) {
    if (t == null) {
      return "?";
    }
    long seconds = Math.max(0, (System.currentTimeMillis() - t.getTime()) / 1000);
    return TIME.format(t.toInstant()) + " (" + seconds + " s ago)";
  }

  private static void close(Connection connection) {
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing ends the session
    }
  }

  @Override
  public void close() {
    try (PreparedStatement unlock = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
      unlock.setLong(1, key);
      unlock.execute();
    } catch (SQLException e) {
      Console.warn(
          "could not release the migration lock (it goes with the connection): " + e.getMessage());
    } finally {
      close(connection);
    }
  }
}
