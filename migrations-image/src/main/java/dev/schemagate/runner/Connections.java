package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** Opens connections with a bounded retry and exponential backoff, and classifies failures. */
final class Connections {
  private Connections() {}

  static Connection open(DatabaseSettings db, RunnerSettings settings) {
    Properties props = new Properties();
    if (db.user() != null) {
      props.setProperty("user", db.user());
    }
    if (db.password() != null) {
      props.setProperty("password", db.password());
    }
    props.setProperty("ApplicationName", settings.applicationName());
    props.setProperty("connectTimeout", "10");
    long waitMs = 1000;
    for (int attempt = 0; ; attempt++) {
      try {
        return DriverManager.getConnection(db.jdbcUrl(), props);
      } catch (SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("28")) {
          throw new RunnerException(
              ExitCode.CONFIGURATION,
              "the database refused the credentials ("
                  + e.getMessage()
                  + "); check the user and password in the database Secret",
              null,
              e);
        }
        if (state.equals("3D000")) {
          throw new RunnerException(
              ExitCode.CONFIGURATION, e.getMessage() + "; check the database name", null, e);
        }
        if (attempt >= settings.connectRetries()) {
          throw new RunnerException(
              ExitCode.UNREACHABLE,
              "database "
                  + db.jdbcUrl()
                  + " unreachable after "
                  + (attempt + 1)
                  + " attempts: "
                  + e.getMessage(),
              null,
              e);
        }
        Console.warn(
            "database not reachable ("
                + e.getMessage()
                + "); attempt "
                + (attempt + 2)
                + " of "
                + (settings.connectRetries() + 1)
                + " in "
                + waitMs
                + " ms");
        sleep(waitMs);
        waitMs = Math.min(waitMs * 2, settings.connectRetryMaxIntervalSeconds() * 1000L);
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunnerException(ExitCode.UNREACHABLE, "interrupted while waiting for the database");
    }
  }
}
