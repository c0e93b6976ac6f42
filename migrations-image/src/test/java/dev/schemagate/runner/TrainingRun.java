package dev.schemagate.runner;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The runs that make and check the start-up archive of the runner's image (scripts/images):
 *
 * <pre>TrainingRun DIR -- COMMAND... [-- COMMAND...]</pre>
 *
 * <p>starts a throwaway PostgreSQL (embedded, on loopback, its files under DIR, gone when this
 * ends) and runs each command once against a new database of its own, with DATABASE_URL naming it
 * and the environment this process was given (SCHEMAGATE_LOCATIONS, JAVA_TOOL_OPTIONS). The first
 * command is the training run (a migrate: its JVM writes the archive as it exits), the next the
 * check that the archive is used (-XX:AOTMode=on or -Xshare:on: a JVM that cannot use it does not
 * start). A command that fails, or that leaves no migration applied, fails the whole.
 */
public final class TrainingRun {
  private TrainingRun() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3 || !args[1].equals("--")) {
      System.err.println("usage: TrainingRun DIR -- COMMAND... [-- COMMAND...]");
      System.exit(2);
    }
    Path dir = Files.createDirectories(Path.of(args[0]));
    List<List<String>> commands = commands(Arrays.asList(args).subList(2, args.length));
    try (EmbeddedPostgres pg =
        EmbeddedPostgres.builder().setOverrideWorkingDirectory(dir.toFile()).start()) {
      int n = 0;
      for (List<String> command : commands) {
        String database = "training" + n++;
        try (Connection c = pg.getPostgresDatabase().getConnection();
            Statement s = c.createStatement()) {
          s.execute("CREATE DATABASE " + database);
        }
        Path result = dir.resolve(database + ".json");
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder
            .environment()
            .put(
                "DATABASE_URL",
                "postgresql://postgres:postgres@127.0.0.1:" + pg.getPort() + "/" + database);
        builder.environment().put("SCHEMAGATE_RESULT_FILE", result.toString());
        Process p = builder.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new IllegalStateException(String.join(" ", command) + ": not done in 5 minutes");
        }
        if (p.exitValue() != 0) {
          throw new IllegalStateException(
              String.join(" ", command) + ": exit " + p.exitValue() + " (its output is above)");
        }
        try (Connection c = pg.getDatabase("postgres", database).getConnection();
            Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success")) {
          rs.next();
          if (rs.getInt(1) == 0) {
            throw new IllegalStateException(String.join(" ", command) + ": applied no migration");
          }
        }
      }
    } finally {
      delete(dir.toFile());
    }
  }

  static List<List<String>> commands(List<String> args) {
    List<List<String>> out = new ArrayList<>();
    List<String> current = new ArrayList<>();
    for (String a : args) {
      if (a.equals("--")) {
        out.add(current);
        current = new ArrayList<>();
      } else {
        current.add(a);
      }
    }
    out.add(current);
    out.removeIf(List::isEmpty);
    return out;
  }

  private static void delete(File f) {
    File[] children = f.listFiles();
    if (children != null) {
      for (File c : children) {
        delete(c);
      }
    }
    f.delete();
  }
}
