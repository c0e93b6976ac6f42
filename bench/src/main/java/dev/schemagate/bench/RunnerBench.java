package dev.schemagate.bench;

import dev.schemagate.sandbox.Database;
import dev.schemagate.sandbox.Demo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * 5. 500 SQL migrations on an empty database: the schemagate runner and Flyway itself (the same
 * flyway-core, configured and run in a process of its own, as its command line does; the command
 * line 13.12.1 needs modules that cannot be resolved here), alternated in one run on one
 * PostgreSQL; Alembic (the example's pinned release, from .tools/python) as a peer.
 */
final class RunnerBench {
  private final Path home;
  private final Path results;

  RunnerBench(Path home, Path results) {
    this.home = home;
    this.results = results;
  }

  static String sql(int i) {
    return "CREATE TABLE t"
        + i
        + " (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());\n"
        + "CREATE INDEX t"
        + i
        + "_name ON t"
        + i
        + " (name);\n";
  }

  void run(int migrations, int rounds) throws Exception {
    Path work = home.resolve("bench/target/runner");
    Demo.clean(work);
    Path sqlDir = Files.createDirectories(work.resolve("sql"));
    for (int i = 1; i <= migrations; i++) {
      Files.writeString(sqlDir.resolve("V" + i + "__table_" + i + ".sql"), sql(i));
    }
    Path alembicDir = alembicProject(work.resolve("alembic"), migrations);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Double> runner = new ArrayList<>();
    List<Double> flyway = new ArrayList<>();
    List<Double> alembic = new ArrayList<>();
    try (Database db = Database.embedded(work.resolve("postgres"))) {
      for (int r = 0; r < rounds; r++) {
        db.create("r" + r);
        runner.add(
            time(
                work,
                List.of(
                    java,
                    "-jar",
                    home.resolve("migrations-image/target/schemagate-runner.jar").toString(),
                    "migrate",
                    "--target",
                    "latest"),
                Map.of(
                    "DATABASE_URL",
                    db.url("r" + r),
                    "SCHEMAGATE_LOCATIONS",
                    sqlDir.toString(),
                    "SCHEMAGATE_RESULT_FILE",
                    work.resolve("result.json").toString())));
        check(db, "r" + r, "SELECT count(*) FROM flyway_schema_history WHERE success", migrations);
        db.create("f" + r);
        flyway.add(
            time(
                work,
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    BareFlyway.class.getName(),
                    "jdbc:postgresql://127.0.0.1:" + db.port() + "/f" + r,
                    "postgres",
                    "postgres",
                    "filesystem:" + sqlDir),
                Map.of()));
        check(db, "f" + r, "SELECT count(*) FROM flyway_schema_history WHERE success", migrations);
        db.create("a" + r);
        alembic.add(
            time(
                alembicDir,
                List.of(
                    home.resolve(".tools/python/bin/python").toString(),
                    "-m",
                    "alembic",
                    "upgrade",
                    "head"),
                Map.of(
                    "DATABASE_URL",
                    "postgresql+psycopg2://postgres:postgres@127.0.0.1:" + db.port() + "/a" + r)));
        check(
            db,
            "a" + r,
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 't%' AND table_schema = 'public'",
            migrations);
      }
    }
    Stats s = Stats.of(runner);
    Stats f = Stats.of(flyway);
    Stats a = Stats.of(alembic);
    double ratio = s.median() / f.median();
    new Table(
            "5. "
                + migrations
                + " SQL migrations on an empty PostgreSQL 14 database ("
                + rounds
                + " rounds, alternated; whole process, median / max)")
        .row(
            "schemagate runner (migrate --target latest)",
            String.format("%.2f / %.2f s", s.median() / 1000, s.max() / 1000),
            "",
            "")
        .row(
            "Flyway 13.12.1 itself: Flyway.configure()...migrate() in a process (the CLI cannot be resolved here)",
            String.format("%.2f / %.2f s", f.median() / 1000, f.max() / 1000),
            "",
            "")
        .row("runner / Flyway", String.format("%.3f", ratio), "<= 1.05", Table.met(ratio <= 1.05))
        .row(
            "Alembic 1.20 (.tools/python), " + migrations + " equivalent revisions (upgrade head)",
            String.format("%.2f / %.2f s", a.median() / 1000, a.max() / 1000),
            "",
            "")
        .print(results, "5-runner.md");
  }

  static double time(Path dir, List<String> command, Map<String, String> env) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("last-run.log").toFile());
    builder.environment().putAll(env);
    long start = System.nanoTime();
    Process p = builder.start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException(
          command.get(0) + " failed: " + Files.readString(dir.resolve("last-run.log")));
    }
    return (System.nanoTime() - start) / 1e6;
  }

  static void check(Database db, String database, String sql, int expected) throws Exception {
    try (var c = db.connect(database);
        var rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      if (rs.getInt(1) != expected) {
        throw new IllegalStateException(
            database + ": expected " + expected + " from " + sql + ", got " + rs.getInt(1));
      }
    }
  }

  /** An Alembic project with one revision per table, the same SQL as the Flyway scripts. */
  static Path alembicProject(Path dir, int revisions) throws Exception {
    Files.createDirectories(dir.resolve("alembic/versions"));
    Files.writeString(dir.resolve("alembic.ini"), "[alembic]\nscript_location = alembic\n");
    Files.writeString(
        dir.resolve("alembic/env.py"),
        String.join(
            "\n",
            "import os",
            "from alembic import context",
            "from sqlalchemy import create_engine, pool",
            "engine = create_engine(os.environ['DATABASE_URL'], poolclass=pool.NullPool)",
            "with engine.connect() as connection:",
            "    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)",
            "    with context.begin_transaction():",
            "        context.run_migrations()",
            ""));
    for (int i = 1; i <= revisions; i++) {
      Files.writeString(
          dir.resolve("alembic/versions/r" + i + ".py"),
          String.join(
              "\n",
              "from alembic import op",
              "revision = 'r" + i + "'",
              "down_revision = " + (i == 1 ? "None" : "'r" + (i - 1) + "'"),
              "branch_labels = None",
              "depends_on = None",
              "def upgrade():",
              "    op.execute(\"\"\"" + sql(i) + "\"\"\")",
              "def downgrade():",
              "    op.execute('DROP TABLE t" + i + "')",
              ""));
    }
    return dir;
  }
}
