package dev.schemagate.bench;

import dev.schemagate.sandbox.Demo;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * 12. The runner's own start: the runner started as its image starts it (scripts/images
 * runner-root: the image's Java runtime, runner.jar and start-up archive, its entrypoint's
 * arguments and JAVA_TOOL_OPTIONS), migrating the example's 4 migrations on a new database of a
 * real PostgreSQL (embedded, as the sandbox's), with and without the image's archive, taking turns.
 * The first SQL statement's time is PostgreSQL's own (log_statement=all, log_line_prefix %n: the
 * Unix time in milliseconds), the start the moment before the process is started; so "JVM start to
 * first SQL" is everything a Job's container spends before it talks to its database.
 */
final class RunnerStartBench {
  /**
   * A logged statement: "1765139012.345 DATABASE APPLICATION LOG: statement: ..." (or "execute
   * NAME: ..." for a prepared one).
   */
  private static final Pattern STATEMENT =
      Pattern.compile("^(\\d+\\.\\d+),([^,]*),(.*?),LOG:  (?:statement|execute [^:]*):");

  /** The application name of this benchmark's own connections, whose statements are not counted. */
  private static final String OWN = "runnerstart-bench";

  record Start(double firstSql, double lastSql, double exit) {}

  record Variant(String label, List<String> command) {}

  private final Path home;
  private final Path results;

  RunnerStartBench(Path home, Path results) {
    this.home = home;
    this.results = results;
  }

  /** The image's command line, and the same without its archive (the image before it had one). */
  static List<Variant> variants(Path root) throws Exception {
    List<String> image = Files.readAllLines(root.resolve("command"));
    String archive =
        image.stream()
            .filter(a -> a.startsWith("-XX:AOTCache=") || a.startsWith("-XX:SharedArchiveFile="))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException(root + "/command names no archive"));
    List<String> without = new ArrayList<>(image);
    without.remove(archive);
    Path file = Path.of(archive.substring(archive.indexOf('=') + 1));
    return List.of(
        new Variant("the image's runtime, no start-up archive (the image before)", without),
        new Variant(
            String.format(
                "the image's runtime with its start-up archive (%s, %.1f MiB)",
                file.getFileName(), Files.size(file) / 1048576.0),
            image));
  }

  void run(int starts) throws Exception {
    Path work = home.resolve("bench/target/runnerstart");
    Demo.clean(work);
    Path root = stage(work.resolve("root"));
    String javaToolOptions = Files.readString(root.resolve("java-tool-options")).strip();
    List<Variant> variants = variants(root);
    Path migrations = home.resolve("migrations-image/examples/app_user");
    Path logs = Files.createDirectories(work.resolve("pglog"));
    Map<Variant, List<Start>> samples = new LinkedHashMap<>();
    variants.forEach(v -> samples.put(v, new ArrayList<>()));
    String load;
    try (EmbeddedPostgres pg =
        EmbeddedPostgres.builder()
            .setOverrideWorkingDirectory(Files.createDirectories(work.resolve("postgres")).toFile())
            .setDataDirectory(work.resolve("data"))
            .setPGStartupWait(Duration.ofMinutes(1))
            .setServerConfig("logging_collector", "on")
            .setServerConfig("log_directory", logs.toString())
            .setServerConfig("log_filename", "postgresql.log")
            .setServerConfig("log_statement", "all")
            .setServerConfig("log_line_prefix", "%n,%d,%a,")
            .start()) {
      // (the prefix has no spaces or bars: the server's options pass through a shell)
      // one start of each first, not counted: the page cache holds the runtime and the jar after
      for (Variant v : variants) {
        once(pg, logs, v, "warm" + variants.indexOf(v), migrations, javaToolOptions, work);
      }
      load = Machine.loadAverage();
      for (int i = 0; i < starts; i++) {
        for (Variant v : variants) {
          String db = "s" + i + "_" + variants.indexOf(v);
          samples.get(v).add(once(pg, logs, v, db, migrations, javaToolOptions, work));
        }
      }
    }
    Table table =
        new Table(
            "12. The runner's own start, as its image starts it: the example's 4 migrations on a"
                + " new database ("
                + starts
                + " starts of each, taking turns; median / max)");
    table.note("Load average before / after: " + load + " / " + Machine.loadAverage());
    table.note(
        "Command: "
            + String.join(" ", Files.readAllLines(root.resolve("command")))
                .replace(root.toString(), "")
            + "; JAVA_TOOL_OPTIONS="
            + javaToolOptions);
    for (Variant v : variants) {
      List<Start> s = samples.get(v);
      Stats first = Stats.of(s.stream().map(Start::firstSql).toList());
      Stats sql = Stats.of(s.stream().map(a -> a.lastSql() - a.firstSql()).toList());
      Stats exit = Stats.of(s.stream().map(Start::exit).toList());
      table.row(
          v.label() + ": JVM start to the first SQL statement",
          ClusterBench.fmt(first.median()) + " / " + ClusterBench.fmt(first.max()) + " ms",
          "<= 300 ms",
          Table.met(first.median() <= 300));
      table.row(
          v.label() + ": first to last SQL statement; whole process",
          ClusterBench.fmt(sql.median())
              + " / "
              + ClusterBench.fmt(sql.max())
              + " ms; "
              + ClusterBench.fmt(exit.median())
              + " / "
              + ClusterBench.fmt(exit.max())
              + " ms");
    }
    table.print(results, "11-runnerstart.md");
  }

  /** The runner image's /opt/schemagate and command line, from scripts/images runner-root. */
  private Path stage(Path dir) throws Exception {
    Files.createDirectories(dir);
    Process p =
        new ProcessBuilder(
                "bash", home.resolve("scripts/images").toString(), "runner-root", dir.toString())
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolveSibling("runner-root.log").toFile())
            .start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "scripts/images runner-root failed: "
              + Files.readString(dir.resolveSibling("runner-root.log")));
    }
    return dir;
  }

  private static Start once(
      EmbeddedPostgres pg,
      Path logs,
      Variant v,
      String db,
      Path migrations,
      String javaToolOptions,
      Path work)
      throws Exception {
    try (Connection c = pg.getPostgresDatabase().getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + db);
    }
    Path log = work.resolve("last-run.log");
    ProcessBuilder builder =
        new ProcessBuilder(v.command())
            .directory(migrations.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", "/usr/bin:/bin");
    builder.environment().put("JAVA_TOOL_OPTIONS", javaToolOptions);
    builder.environment().put("SCHEMAGATE_LOCATIONS", migrations.toString());
    builder.environment().put("SCHEMAGATE_RESULT_FILE", work.resolve("result.json").toString());
    builder
        .environment()
        .put("DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:" + pg.getPort() + "/" + db);
    long t0 = System.currentTimeMillis();
    long n0 = System.nanoTime();
    Process p = builder.start();
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(v.label() + " failed: " + Files.readString(log));
    }
    double exit = (System.nanoTime() - n0) / 1e6;
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:"
                    + pg.getPort()
                    + "/"
                    + db
                    + "?ApplicationName="
                    + OWN,
                "postgres",
                "postgres");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success")) {
      rs.next();
      if (rs.getInt(1) != 4) {
        throw new IllegalStateException(db + ": " + rs.getInt(1) + " migrations applied, not 4");
      }
    }
    // the collector writes the statements a moment after they ran: once this benchmark's own
    // query (after the runner's) is in the log, so are all of the runner's
    double first = Double.NaN;
    double last = Double.NaN;
    boolean own = false;
    for (int tries = 0; tries < 250 && !own; tries++) {
      if (tries > 0) {
        Thread.sleep(20);
      }
      first = Double.NaN;
      last = Double.NaN;
      for (String line : Files.readAllLines(logs.resolve("postgresql.log"))) {
        Matcher m = STATEMENT.matcher(line);
        if (!m.find() || !m.group(2).equals(db)) {
          continue;
        }
        if (m.group(3).equals(OWN)) {
          own = true;
          continue;
        }
        double at = Double.parseDouble(m.group(1)) * 1000 - t0;
        first = Double.isNaN(first) ? at : Math.min(first, at);
        last = Double.isNaN(last) ? at : Math.max(last, at);
      }
    }
    if (!own || Double.isNaN(first)) {
      throw new IllegalStateException(db + ": the runner's statements are not in PostgreSQL's log");
    }
    return new Start(first, last, exit);
  }
}
