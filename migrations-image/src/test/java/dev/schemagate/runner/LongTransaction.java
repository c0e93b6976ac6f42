package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

/**
 * A session that reads a table in a transaction it keeps open (ACCESS SHARE on the table), as a
 * long report does.
 */
final class LongTransaction implements AutoCloseable {
  final Connection connection;
  final int pid;
  private final String began;

  LongTransaction(String database, String table, String applicationName) throws Exception {
    connection = Postgres.connect(database);
    try (Statement s = connection.createStatement()) {
      s.execute("SET application_name = '" + applicationName + "'");
      connection.setAutoCommit(false);
      s.executeQuery("SELECT count(*) FROM " + table).close();
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), clock_timestamp()::text")) {
        rs.next();
        pid = rs.getInt(1);
        began = rs.getString(2);
      }
    }
  }

  /** Ends the transaction after a while, from a thread of its own. */
  LongTransaction endAfter(long millis) {
    Thread t =
        new Thread(
            () -> {
              try {
                Thread.sleep(millis);
                close();
              } catch (Exception ignored) {
                // the test sees the outcome
              }
            });
    t.setDaemon(true);
    t.start();
    return this;
  }

  /**
   * Ends the transaction a while after a new session (the migration's) has connected to the
   * database, from a thread of its own: the migration meets the lock however long its process took
   * to start on a busy machine.
   */
  LongTransaction endAfterTheNextSessionHeldItFor(String database, long millis) {
    Thread t =
        new Thread(
            () -> {
              try (Connection watch = Postgres.connect(database);
                  Statement s = watch.createStatement()) {
                while (!connection.isClosed()) {
                  try (ResultSet rs =
                      s.executeQuery(
                          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                              + " AND pid <> pg_backend_pid() AND backend_start > '"
                              + began
                              + "'::timestamptz")) {
                    rs.next();
                    if (rs.getInt(1) > 0) {
                      break;
                    }
                  }
                  Thread.sleep(10);
                }
                Thread.sleep(millis);
                close();
              } catch (Exception ignored) {
                // the test sees the outcome
              }
            });
    t.setDaemon(true);
    t.start();
    return this;
  }

  @Override
  public synchronized void close() throws Exception {
    if (!connection.isClosed()) {
      connection.commit();
      connection.close();
    }
  }
}
