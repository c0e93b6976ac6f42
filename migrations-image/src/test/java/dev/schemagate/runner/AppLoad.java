package dev.schemagate.runner;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The app: simple queries on its table at a fixed rate, from a small pool of connections. Each
 * query's latency counts from when it was due, so a query that waits for a free connection behind
 * blocked ones counts its wait too.
 */
final class AppLoad implements AutoCloseable {
  private final ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
  private final ExecutorService workers;
  private final List<Connection> connections = new ArrayList<>();
  private final ThreadLocal<Connection> mine = new ThreadLocal<>();
  private final List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
  private final String sql;

  AppLoad(String database, String sql, int perSecond, int poolSize) throws Exception {
    this.sql = sql;
    workers = Executors.newFixedThreadPool(poolSize);
    for (int i = 0; i < poolSize; i++) {
      Connection c = Postgres.connect(database);
      c.createStatement().execute("SET application_name = 'app'");
      connections.add(c);
    }
    List<Connection> free = Collections.synchronizedList(new ArrayList<>(connections));
    long period = 1_000_000 / perSecond;
    clock.scheduleAtFixedRate(
        () -> {
          long due = System.nanoTime();
          workers.execute(
              () -> {
                Connection c = mine.get();
                if (c == null) {
                  c = free.remove(0);
                  mine.set(c);
                }
                try (PreparedStatement s = c.prepareStatement(this.sql);
                    ResultSet rs = s.executeQuery()) {
                  rs.next();
                } catch (Exception e) {
                  latencies.add(-1.0);
                  return;
                }
                latencies.add((System.nanoTime() - due) / 1e6);
              });
        },
        0,
        period,
        TimeUnit.MICROSECONDS);
  }

  /** The latencies so far (ms; -1 for a failed query). */
  List<Double> latencies() {
    synchronized (latencies) {
      return new ArrayList<>(latencies);
    }
  }

  static double max(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
  }

  @Override
  public void close() throws Exception {
    clock.shutdownNow();
    workers.shutdown();
    workers.awaitTermination(30, TimeUnit.SECONDS);
    for (Connection c : connections) {
      c.close();
    }
  }
}
