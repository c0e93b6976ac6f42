package dev.schemagate.sandbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A client of one version of the example app, on a connection of its own: in a loop, the queries
 * that version's SQLAlchemy issues for {@code POST /users} (the insert, then the refresh), {@code
 * GET /users/{id}} (of a row either version wrote) and, every tenth time, {@code GET /users}, with
 * the column its model maps the attribute {@code name} to. A query that fails is an error, and so
 * is a row that version could not serve (its response model requires the name): a null in that
 * column.
 */
final class AppVersionLoad implements AutoCloseable {
  private final String version;
  private final String column;
  private final Connection connection;
  private final List<Long> ids;
  private final Thread thread;
  private volatile boolean stop;
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger errors = new AtomicInteger();
  private final List<String> firstErrors = Collections.synchronizedList(new ArrayList<>());
  private final AtomicReference<Instant> first = new AtomicReference<>();
  private final AtomicReference<Instant> last = new AtomicReference<>();

  /**
   * Starts the load of the app version that maps the attribute name to this column, sharing the ids
   * of the rows written with the other version's load.
   */
  AppVersionLoad(String version, String column, Connection connection, List<Long> ids) {
    this.version = version;
    this.column = column;
    this.connection = connection;
    this.ids = ids;
    this.thread = new Thread(this::run, "load-" + version);
    thread.setDaemon(true);
    thread.start();
  }

  private String select() {
    return "SELECT app_user.id, app_user."
        + column
        + ", app_user.email, app_user.display_name, app_user.created_at FROM app_user";
  }

  private void run() {
    int n = 0;
    while (!stop) {
      n++;
      try {
        post(version + "-" + n);
        getOne();
        if (n % 10 == 0) {
          list();
        }
        Instant now = Instant.now();
        first.compareAndSet(null, now);
        last.set(now);
      } catch (SQLException | RuntimeException e) {
        errors.incrementAndGet();
        if (firstErrors.size() < 5) {
          firstErrors.add(Instant.now() + " " + e.getMessage());
        }
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** POST /users: the insert, then the refresh of the row. */
  private void post(String name) throws SQLException {
    requests.incrementAndGet();
    long id;
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO app_user ("
                + column
                + ", email, display_name) VALUES (?, ?, ?)"
                + " RETURNING app_user.id, app_user.created_at")) {
      insert.setString(1, name);
      insert.setString(2, name + "@example.com");
      insert.setString(3, name);
      try (ResultSet rs = insert.executeQuery()) {
        rs.next();
        id = rs.getLong(1);
      }
    }
    byId(id);
    ids.add(id);
  }

  /** GET /users/{id} of a row one of the versions wrote. */
  private void getOne() throws SQLException {
    requests.incrementAndGet();
    long id;
    synchronized (ids) {
      if (ids.isEmpty()) {
        return;
      }
      id = ids.get(ThreadLocalRandom.current().nextInt(ids.size()));
    }
    byId(id);
  }

  private void byId(long id) throws SQLException {
    try (PreparedStatement get = connection.prepareStatement(select() + " WHERE app_user.id = ?")) {
      get.setLong(1, id);
      try (ResultSet rs = get.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("user " + id + " not found");
        }
        served(rs);
      }
    }
  }

  /** GET /users. */
  private void list() throws SQLException {
    requests.incrementAndGet();
    try (PreparedStatement all = connection.prepareStatement(select() + " ORDER BY app_user.id");
        ResultSet rs = all.executeQuery()) {
      while (rs.next()) {
        served(rs);
      }
    }
  }

  private void served(ResultSet rs) throws SQLException {
    if (rs.getString(2) == null) {
      throw new IllegalStateException(
          "user " + rs.getLong(1) + " has no " + column + ": app " + version + " answers 500");
    }
  }

  int requests() {
    return requests.get();
  }

  int errors() {
    return errors.get();
  }

  List<String> firstErrors() {
    return List.copyOf(firstErrors);
  }

  /** When its first loop of queries had all succeeded. */
  Instant first() {
    return first.get();
  }

  /** When its last loop of queries had all succeeded. */
  Instant last() {
    return last.get();
  }

  String summary() {
    return "app "
        + version
        + " (reads and writes "
        + column
        + "): "
        + requests()
        + " requests from "
        + first()
        + " to "
        + last()
        + ", "
        + errors()
        + " errors"
        + (firstErrors.isEmpty() ? "" : " " + firstErrors());
  }

  /** Stops the loop and waits for it to end. */
  @Override
  public void close() throws Exception {
    stop = true;
    thread.join(30_000);
    connection.close();
  }
}
