package dev.schemagate.runner;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** One real PostgreSQL server for the test run, a fresh database per test. */
final class Postgres {
  private static EmbeddedPostgres server;

  private Postgres() {}

  static synchronized EmbeddedPostgres server() {
    if (server == null) {
      try {
        File dir = new File("target/embedded-pg");
        dir.mkdirs();
        server = EmbeddedPostgres.builder().setOverrideWorkingDirectory(dir).start();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      server.close();
                    } catch (IOException ignored) {
                      // the JVM is going away
                    }
                  }));
    }
    return server;
  }

  static int port() {
    return server().getPort();
  }

  static String newDatabase() {
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = server().getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return name;
  }

  static Connection connect(String database) throws SQLException {
    return server().getDatabase("postgres", database).getConnection();
  }

  /** The first column of each row of a query, as text. */
  static List<String> rows(String database, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = connect(database);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  static void execute(String database, String sql) throws SQLException {
    try (Connection c = connect(database);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
