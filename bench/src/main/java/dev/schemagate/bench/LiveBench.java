package dev.schemagate.bench;

import dev.schemagate.sandbox.Database;
import dev.schemagate.sandbox.Demo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * 6. App latency during a migration: the app's simple queries on its table at a fixed rate, a long
 * transaction holding ACCESS SHARE on that table for 10 s, and meanwhile ALTER TABLE ... ADD COLUMN
 * by plain Flyway, plain Alembic, Alembic with the schemagate recipe, and the schemagate runner,
 * one after the other on one PostgreSQL. Latency counts from when a query was due (a query waiting
 * for a free connection behind blocked ones counts its wait).
 */
final class LiveBench {
  static final int RATE = 200;
  static final int POOL = 8;
  static final int ROWS = 10_000;
  static final long HOLD_MS = 10_000;
  static final long LOCK_TIMEOUT_MS = 2_000;

  private final Path home;
  private final Path results;
  private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  LiveBench(Path home, Path results) {
    this.home = home;
    this.results = results;
  }

  record Sample(long dueNanos, double ms) {}

  record Outcome(
      String name,
      Stats stats,
      long over1s,
      long overLockTimeout,
      long failed,
      double migrationSeconds,
      String note) {}

  /** A contender: the command that runs ALTER TABLE app_user ADD COLUMN note text on a database. */
  interface Migration {
    List<String> command(String database);

    Map<String, String> env(String database);
  }

  void run() throws Exception {
    Path work = home.resolve("bench/target/live");
    Demo.clean(work);
    Path sql = Files.createDirectories(work.resolve("sql"));
    Files.writeString(
        sql.resolve("V1__add_note.sql"), "ALTER TABLE app.app_user ADD COLUMN note text;\n");
    Path python = home.resolve(".tools/python/bin/python");
    Path plainAlembic = alembicProject(work.resolve("alembic-plain"), false);
    Path safeAlembic = alembicProject(work.resolve("alembic-schemagate"), true);
    // the Alembic kit's schemagate_alembic, beside alembic.ini as the Job's path has it
    Path kit = work.resolve("alembic-kit");
    Process build =
        new ProcessBuilder("bash", home.resolve("scripts/alembic-kit").toString(), kit.toString())
            .inheritIO()
            .start();
    if (build.waitFor() != 0) {
      throw new IllegalStateException("scripts/alembic-kit failed");
    }
    Path module = kit.resolve("python/schemagate_alembic");
    Files.createDirectories(safeAlembic.resolve("schemagate_alembic"));
    try (var files = Files.list(module)) {
      for (Path f : files.toList()) {
        Files.copy(f, safeAlembic.resolve("schemagate_alembic").resolve(f.getFileName()));
      }
    }
    List<Outcome> outcomes = new ArrayList<>();
    try (Database db = Database.embedded(work.resolve("postgres"))) {
      String jdbcFlyway = "jdbc:postgresql://127.0.0.1:" + db.port() + "/";
      outcomes.add(scenario(db, work, "no migration (the long transaction only)", null));
      outcomes.add(
          scenario(
              db,
              work,
              "plain Flyway 13.12.1 (flyway-core migrate)",
              new Migration() {
                public List<String> command(String d) {
                  return List.of(
                      java,
                      "-cp",
                      System.getProperty("java.class.path"),
                      BareFlyway.class.getName(),
                      jdbcFlyway + d,
                      "postgres",
                      "postgres",
                      "filesystem:" + sql);
                }

                public Map<String, String> env(String d) {
                  return Map.of();
                }
              }));
      outcomes.add(
          scenario(db, plainAlembic, "plain Alembic 1.20 (stock env.py)", alembic(python, db)));
      outcomes.add(
          scenario(
              db,
              safeAlembic,
              "Alembic 1.20 with schemagate_alembic (lock timeout 2s)",
              alembic(python, db)));
      outcomes.add(
          scenario(
              db,
              work,
              "schemagate runner (lock timeout 2s)",
              new Migration() {
                public List<String> command(String d) {
                  // the JVM options of the runner's image
                  return List.of(
                      java,
                      "-XX:+UseSerialGC",
                      "-jar",
                      home.resolve("migrations-image/target/schemagate-runner.jar").toString(),
                      "migrate",
                      "--target",
                      "latest");
                }

                public Map<String, String> env(String d) {
                  return Map.of(
                      "DATABASE_URL",
                      db.url(d),
                      "SCHEMAGATE_LOCATIONS",
                      sql.toString(),
                      "SCHEMAGATE_RESULT_FILE",
                      work.resolve("result.json").toString());
                }
              }));
    }
    double baseline = outcomes.get(0).stats().p(99);
    Table table =
        new Table(
            "6. App latency during a migration: "
                + RATE
                + " queries/s on app_user ("
                + POOL
                + " connections), a transaction holding"
                + " ACCESS SHARE on it for "
                + HOLD_MS / 1000
                + " s, ALTER TABLE app_user ADD COLUMN meanwhile (PostgreSQL 14)");
    for (Outcome o : outcomes) {
      Stats s = o.stats();
      String value =
          String.format(
              "p50 %.1f / p99 %.1f / max %.0f ms; %d of %d queries over 1 s, %d over 2 s%s; migration %.1f s%s",
              s.median(),
              s.p(99),
              s.max(),
              o.over1s(),
              s.count(),
              o.overLockTimeout(),
              o.failed() > 0 ? ", " + o.failed() + " failed" : "",
              o.migrationSeconds(),
              o.note().isEmpty() ? "" : "; " + o.note());
      if (o.name().startsWith("schemagate runner")) {
        boolean met = s.p(99) <= 2 * baseline && o.overLockTimeout() == 0;
        table.row(
            o.name(),
            value,
            "p99 <= 2x no migration ("
                + String.format("%.1f", 2 * baseline)
                + " ms), none over the lock timeout",
            Table.met(met));
      } else {
        table.row(o.name(), value);
      }
    }
    table.print(results, "6-live.md");
  }

  private Migration alembic(Path python, Database db) {
    return new Migration() {
      public List<String> command(String d) {
        return List.of(python.toString(), "-m", "alembic", "upgrade", "head");
      }

      public Map<String, String> env(String d) {
        return Map.of(
            "DATABASE_URL", db.url("postgresql+psycopg2", d), "PYTHONDONTWRITEBYTECODE", "1");
      }
    };
  }

  /**
   * One scenario on a fresh database: load, then the long transaction, then (0.5 s later) the
   * migration.
   */
  private Outcome scenario(Database db, Path dir, String name, Migration migration)
      throws Exception {
    String database = "live" + Integer.toHexString(name.hashCode() & 0xfffffff);
    db.create(database);
    try (Connection c = db.connect(database);
        Statement s = c.createStatement()) {
      // The app's own schema: public stays empty for the migration tools' history tables.
      s.execute("CREATE SCHEMA app");
      s.execute("CREATE TABLE app.app_user (id bigint PRIMARY KEY, name text NOT NULL)");
      s.execute(
          "INSERT INTO app.app_user SELECT g, 'user ' || g FROM generate_series(1, "
              + ROWS
              + ") g");
      s.execute("ANALYZE app.app_user");
    }
    List<Sample> samples = Collections.synchronizedList(new ArrayList<>());
    long[] failed = {0};
    ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
    ExecutorService workers = Executors.newFixedThreadPool(POOL);
    List<Connection> free = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < POOL; i++) {
      Connection c = db.connect(database);
      c.createStatement().execute("SET application_name = 'app'");
      free.add(c);
    }
    List<Connection> all = new ArrayList<>(free);
    ThreadLocal<Connection> mine = new ThreadLocal<>();
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
                try (PreparedStatement q =
                    c.prepareStatement("SELECT name FROM app.app_user WHERE id = ?")) {
                  q.setLong(1, 1 + ThreadLocalRandom.current().nextInt(ROWS));
                  try (ResultSet rs = q.executeQuery()) {
                    rs.next();
                  }
                  samples.add(new Sample(due, (System.nanoTime() - due) / 1e6));
                } catch (Exception e) {
                  failed[0]++;
                }
              });
        },
        0,
        1_000_000 / RATE,
        TimeUnit.MICROSECONDS);
    Thread.sleep(3_000);
    long windowStart;
    long windowEnd;
    double migrationSeconds = 0;
    String note = "";
    try (Connection report = db.connect(database);
        Statement s = report.createStatement()) {
      s.execute("SET application_name = 'long-report'");
      report.setAutoCommit(false);
      s.executeQuery("SELECT count(*) FROM app.app_user").close();
      long held = System.nanoTime();
      Thread ender =
          new Thread(
              () -> {
                try {
                  Thread.sleep(HOLD_MS);
                  report.commit();
                } catch (Exception ignored) {
                  // the figures show it
                }
              });
      ender.start();
      Thread.sleep(500);
      windowStart = System.nanoTime();
      if (migration == null) {
        ender.join();
        windowEnd = System.nanoTime();
      } else {
        ProcessBuilder builder =
            new ProcessBuilder(migration.command(database))
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("last-run.log").toFile());
        builder.environment().putAll(migration.env(database));
        Process p = builder.start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
          throw new IllegalStateException(
              name + " failed: " + Files.readString(dir.resolve("last-run.log")));
        }
        windowEnd = System.nanoTime();
        migrationSeconds = (windowEnd - windowStart) / 1e9;
        String log = Files.readString(dir.resolve("last-run.log"));
        long retries = log.lines().filter(l -> l.contains("gave up on a lock")).count();
        if (retries > 0) {
          note = retries + " lock retr" + (retries == 1 ? "y" : "ies");
        }
        ender.join();
      }
      Thread.sleep(Math.max(0, 1_000 - (System.nanoTime() - held) / 1_000_000));
    }
    Thread.sleep(1_000);
    clock.shutdownNow();
    workers.shutdown();
    workers.awaitTermination(60, TimeUnit.SECONDS);
    for (Connection c : all) {
      c.close();
    }
    List<Double> during = new ArrayList<>();
    synchronized (samples) {
      for (Sample s : samples) {
        if (s.dueNanos() >= windowStart && s.dueNanos() <= windowEnd) {
          during.add(s.ms());
        }
      }
    }
    long over1s = during.stream().filter(ms -> ms > 1_000).count();
    long overLock = during.stream().filter(ms -> ms > LOCK_TIMEOUT_MS).count();
    return new Outcome(name, Stats.of(during), over1s, overLock, failed[0], migrationSeconds, note);
  }

  /**
   * One revision: ALTER TABLE app_user ADD COLUMN note text; stock env.py, or env.py through
   * schemagate_alembic.
   */
  static Path alembicProject(Path dir, boolean schemagate) throws Exception {
    Files.createDirectories(dir.resolve("alembic/versions"));
    Files.writeString(
        dir.resolve("alembic.ini"),
        String.join(
            "\n",
            "[alembic]",
            "script_location = alembic",
            "prepend_sys_path = .",
            "[loggers]",
            "keys = root,alembic",
            "[handlers]",
            "keys = console",
            "[formatters]",
            "keys = generic",
            "[logger_root]",
            "level = WARN",
            "handlers = console",
            "[logger_alembic]",
            "level = INFO",
            "handlers =",
            "qualname = alembic",
            "[handler_console]",
            "class = StreamHandler",
            "args = (sys.stderr,)",
            "level = NOTSET",
            "formatter = generic",
            "[formatter_generic]",
            "format = %(levelname)-5.5s [%(name)s] %(message)s",
            ""));
    String run =
        schemagate
            ? "    run_migrations(context, connection, target_metadata=None)"
            : "    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)\n"
                + "    with context.begin_transaction():\n"
                + "        context.run_migrations()";
    Files.writeString(
        dir.resolve("alembic/env.py"),
        String.join(
            "\n",
            "import os",
            "from logging.config import fileConfig",
            "from alembic import context",
            "from sqlalchemy import create_engine, pool",
            schemagate ? "from schemagate_alembic import run_migrations" : "",
            "fileConfig(context.config.config_file_name)",
            "engine = create_engine(os.environ['DATABASE_URL'], poolclass=pool.NullPool)",
            "with engine.connect() as connection:",
            run,
            ""));
    Files.writeString(
        dir.resolve("alembic/versions/r1.py"),
        String.join(
            "\n",
            "from alembic import op",
            "import sqlalchemy as sa",
            "revision = 'r1'",
            "down_revision = None",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.add_column('app_user', sa.Column('note', sa.Text()), schema='app')",
            "def downgrade():",
            "    op.drop_column('app_user', 'note', schema='app')",
            ""));
    return dir;
  }
}
