package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * A PostgreSQL session advisory lock that serializes schemagate runners on one schema history
 * table: two runners started at once run one after the other, and the second finds the work done.
 */
final class RunLock implements AutoCloseable {
  private final Connection connection;
  private final long key;

  private RunLock(Connection connection, long key) {
    this.connection = connection;
    this.key = key;
  }

  static RunLock acquire(Connection connection, String schema, String table) {
    long key = 0x5c4e3a6a7e000000L ^ (schema + "." + table).hashCode();
    try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_lock(?)")) {
      lock.setLong(1, key);
      lock.execute();
    } catch (SQLException e) {
      throw new RunnerException(
          ExitCode.UNREACHABLE, "could not take the migration lock: " + e.getMessage(), null, e);
    }
    return new RunLock(connection, key);
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
      try {
        connection.close();
      } catch (SQLException ignored) {
        // closing ends the session and its lock
      }
    }
  }
}
