package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Watches the session that runs a migration, from a connection of its own: when that session waits
 * for a lock, who holds it (pid, user, application, state, since when, the modes it holds), from
 * pg_locks and pg_stat_activity. Never a query's text or parameters. Polls only while a migration
 * runs, and asks the lock manager (pg_blocking_pids) only while the session waits.
 */
final class LockWatch implements AutoCloseable {
  static final long POLL_MS = 20;
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

  /** A session holding (or queued ahead for) a lock the watched session waits for. */
  record Holder(
      int pid,
      String user,
      String application,
      String client,
      String state,
      Timestamp xactStart,
      Timestamp stateChange,
      String heldModes,
      String waitedFor) {

    String describe() {
      StringBuilder s = new StringBuilder("pid ").append(pid).append(" (");
      if (user != null) {
        s.append("user ").append(user).append(", ");
      }
      s.append("application \"").append(application == null ? "" : application).append("\"");
      if (client != null) {
        s.append(", from ").append(client);
      }
      s.append(", ").append(state == null ? "state unknown" : state);
      Timestamp since = xactStart != null ? xactStart : stateChange;
      if (since != null) {
        long seconds = Math.max(0, (System.currentTimeMillis() - since.getTime()) / 1000);
        s.append(xactStart != null ? ", transaction open since " : ", since ")
            .append(TIME.format(since.toInstant()))
            .append(" (")
            .append(seconds)
            .append(" s)");
      }
      if (heldModes != null && !heldModes.isEmpty()) {
        s.append(", holds ").append(heldModes);
      }
      return s.append(')').toString();
    }
  }

  private final Connection connection;
  private final Thread thread;
  private volatile int watched;
  private volatile String what = "";
  private volatile boolean closed;
  private final Map<Integer, Holder> holders = new LinkedHashMap<>();

  LockWatch(Connection connection) {
    this.connection = connection;
    this.thread = new Thread(this::loop, "schemagate-lock-watch");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts watching a session (a new attempt of a migration): forgets the holders seen before. */
  void watch(int pid, String what) {
    synchronized (holders) {
      holders.clear();
    }
    this.what = what;
    this.watched = pid;
  }

  void pause() {
    watched = 0;
  }

  /** The sessions the watched one waited for during this attempt. */
  List<Holder> holders() {
    synchronized (holders) {
      return new ArrayList<>(holders.values());
    }
  }

  private void loop() {
    while (!closed) {
      int pid = watched;
      if (pid != 0) {
        try {
          poll(pid);
        } catch (SQLException e) {
          if (!closed) {
            Console.fine("lock watch: " + e.getMessage());
          }
        }
      }
      try {
        Thread.sleep(POLL_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void poll(int pid) throws SQLException {
    synchronized (connection) {
      try (PreparedStatement waiting =
          connection.prepareStatement(
              "SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?")) {
        waiting.setInt(1, pid);
        try (ResultSet rs = waiting.executeQuery()) {
          if (!rs.next() || !"Lock".equals(rs.getString(1))) {
            return;
          }
        }
      }
      try (PreparedStatement blockers =
          connection.prepareStatement(
              "SELECT b.pid, b.usename, b.application_name, b.client_addr::text, b.state, b.xact_start, b.state_change,"
                  + " w.mode || ' on ' || coalesce(w.relation::regclass::text, w.locktype),"
                  + " (SELECT string_agg(DISTINCT h.mode, ', ') FROM pg_locks h WHERE h.pid = b.pid AND h.granted"
                  + "   AND h.locktype = w.locktype AND h.relation IS NOT DISTINCT FROM w.relation)"
                  + " FROM pg_locks w JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(w.pid))"
                  + " WHERE w.pid = ? AND NOT w.granted")) {
        blockers.setInt(1, pid);
        try (ResultSet rs = blockers.executeQuery()) {
          while (rs.next()) {
            Holder h =
                new Holder(
                    rs.getInt(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getString(5),
                    rs.getTimestamp(6),
                    rs.getTimestamp(7),
                    rs.getString(9),
                    rs.getString(8));
            boolean fresh;
            synchronized (holders) {
              fresh = holders.put(h.pid(), h) == null;
            }
            if (fresh && watched == pid) {
              Console.warn(what + " waits for " + h.waitedFor() + ", held by " + h.describe());
            }
          }
        }
      }
    }
  }

  /**
   * Whether a holder is still in the transaction it was in when it was seen (a session lock: still
   * connected).
   */
  boolean stillHolding(Holder h) {
    synchronized (connection) {
      try (PreparedStatement s =
          connection.prepareStatement("SELECT xact_start FROM pg_stat_activity WHERE pid = ?")) {
        s.setInt(1, h.pid());
        try (ResultSet rs = s.executeQuery()) {
          if (!rs.next()) {
            return false;
          }
          Timestamp xact = rs.getTimestamp(1);
          return h.xactStart() == null || h.xactStart().equals(xact);
        }
      } catch (SQLException e) {
        return false;
      }
    }
  }

  /**
   * The indexes of a schema that PostgreSQL marks INVALID (a failed or running CREATE INDEX
   * CONCURRENTLY leaves them).
   */
  Set<String> invalidIndexes(String schema) {
    Set<String> out = new TreeSet<>();
    synchronized (connection) {
      try (PreparedStatement s =
          connection.prepareStatement(
              "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                  + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid AND n.nspname = ?")) {
        s.setString(1, schema);
        try (ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      } catch (SQLException e) {
        Console.warn("could not list INVALID indexes: " + e.getMessage());
      }
    }
    return out;
  }

  @Override
  public void close() {
    closed = true;
    watched = 0;
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // the session ends with the process
    }
  }
}
