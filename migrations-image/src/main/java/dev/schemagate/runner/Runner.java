package dev.schemagate.runner;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.ValidateOutput;
import org.flywaydb.core.api.output.ValidateResult;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * The schemagate migration runner. With no arguments it follows the Job contract:
 * SCHEMAGATE_DIRECTION (upgrade / downgrade / plan / check) and SCHEMAGATE_TARGET_REVISION choose
 * migrate, undo, the plan or the drift check.
 */
@Command(
    name = "schemagate-runner",
    mixinStandardHelpOptions = true,
    version = "schemagate-runner 0.1.0",
    description =
        "Applies and undoes Flyway SQL migrations on PostgreSQL, for schemagate's migration Jobs.",
    subcommands = {
      Runner.Migrate.class,
      Runner.Undo.class,
      Runner.Info.class,
      Runner.Validate.class,
      Runner.Repair.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "2:bad configuration or arguments",
      "3:validation failed (checksum mismatch, applied migration missing locally, missing U script)",
      "4:a migration's SQL failed (its transaction was rolled back)",
      "5:database unreachable after the bounded retry",
      "6:another run held the migration lock longer than SCHEMAGATE_RUN_LOCK_WAIT",
      "7:a migration could not get its locks within its retries or the deadline (rolled back)",
      "8:a migration outside a transaction failed part-way: repair by hand (the message says how)",
      "10:the approved plan (SCHEMAGATE_APPROVED_PLAN) is no longer the plan: nothing was applied",
      "11:a check found a run holding the migration lock: it read nothing and did not wait",
      "13:the schema has objects but no history table and no baseline (SCHEMAGATE_BASELINE):"
          + " nothing was changed"
    })
public final class Runner implements Callable<Integer> {
  /**
   * When the runner's process started (the JVM's own start-up included, which may take seconds on a
   * busy node): the Job's deadline counts from about here.
   */
  static final long STARTED_MILLIS =
      ProcessHandle.current()
          .info()
          .startInstant()
          .map(Instant::toEpochMilli)
          .orElseGet(System::currentTimeMillis);

  /** The environment the runner reads its settings from: the Job contract. */
  private final Map<String, String> env;

  /** Where output that is not a log line goes (the plan's SQL, the JSON of info). */
  private final PrintStream out;

  Runner(Map<String, String> env, PrintStream out) {
    this.env = env;
    this.out = out;
  }

  public static void main(String[] args) {
    System.exit(new Runner(System.getenv(), System.out).run(args));
  }

  int run(String[] args) {
    Console.debug("true".equalsIgnoreCase(env.get("SCHEMAGATE_DEBUG")));
    Integer direct = direct(args);
    if (direct != null) {
      return direct;
    }
    CommandLine cli = new CommandLine(this);
    cli.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          Console.error(e.getMessage());
          return ExitCode.CONFIGURATION;
        });
    return cli.execute(args);
  }

  /**
   * The command lines of a Job (none: the Job contract; {@code migrate --target T} and {@code undo
   * --target T}: what the operator passes) run without picocli, as picocli would run them; null for
   * any other, which picocli parses. Picocli builds its model of the commands by reflection, from
   * classes of an old class-file version that a start-up archive cannot hold: about two thirds of
   * the runner's start before its first SQL statement (bench/rounds.md, the runner's start).
   */
  Integer direct(String[] args) {
    Callable<Integer> command;
    if (args.length == 0) {
      command = this;
    } else if (args.length == 3
        && (args[0].equals("migrate") || args[0].equals("undo"))
        && args[1].equals("--target")
        && !args[2].startsWith("-")) {
      String direction = args[0].equals("migrate") ? "upgrade" : "downgrade";
      command = () -> change(direction, args[2]);
    } else {
      return null;
    }
    try {
      return command.call();
    } catch (Exception e) {
      // picocli's execution exception handler, as run() sets it
      Console.error(e.getMessage());
      return ExitCode.CONFIGURATION;
    }
  }

  /** No arguments: the Job contract. */
  @Override
  public Integer call() {
    String direction = env.getOrDefault("SCHEMAGATE_DIRECTION", "upgrade");
    String target = env.getOrDefault("SCHEMAGATE_TARGET_REVISION", "latest");
    return switch (direction) {
      case "upgrade" -> change("upgrade", target);
      case "downgrade" -> change("downgrade", target);
      case "plan" -> plan(target);
      case "check" -> check();
      default -> {
        Console.error(
            "SCHEMAGATE_DIRECTION must be upgrade, downgrade, plan or check, not \""
                + direction
                + "\"");
        yield ExitCode.CONFIGURATION;
      }
    };
  }

  /** migrate or undo, with the result file and the summary line. */
  int change(String direction, String target) {
    Report report = new Report(direction);
    long start = System.nanoTime();
    RunnerSettings settings = null;
    try {
      settings = RunnerSettings.fromEnvironment(env);
      DatabaseSettings db = DatabaseSettings.fromEnvironment(env);
      Console.info(
          (direction.equals("upgrade") ? "migrating " : "undoing to ")
              + target
              + " on "
              + db.describe()
              + " from "
              + String.join(",", settings.locations()));
      Migrations migrations =
          new Migrations(db, settings, direction.equals("upgrade") ? target : null, false);
      migrations.locked(
          watch -> {
            if (direction.equals("upgrade")) {
              checkApprovedPlan(migrations, target);
              migrations.migrate(target, report, watch);
            } else {
              migrations.undo(target, report, watch);
            }
            report.schema = migrations.fingerprintOrNull();
            return null;
          });
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      Console.info(
          "done: "
              + (direction.equals("upgrade") ? "applied " : "undid ")
              + report.applied.size()
              + " migration(s), "
              + blankAs(report.fromRevision, "empty")
              + " -> "
              + blankAs(report.toRevision, "empty")
              + " in "
              + report.durationMs
              + " ms");
      return ExitCode.OK;
    } catch (RunnerException e) {
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      report.error = ExitCode.reason(e.exitCode());
      report.failedRevision = e.failedRevision();
      report.message = e.getMessage();
      Console.error(e.getMessage());
      return e.exitCode();
    } finally {
      report.write(
          settings != null
              ? settings.resultFile()
              : RunnerSettings.fromEnvironmentOrDefault(env).resultFile());
    }
  }

  /**
   * With SCHEMAGATE_APPROVED_PLAN (the operator sets it for an approved plan), the run applies
   * exactly that plan: under the run lock, the plan is made again, and a different hash (the
   * database or the migrations changed since) ends the run before anything is applied.
   */
  void checkApprovedPlan(Migrations migrations, String target) {
    String approved = env.get("SCHEMAGATE_APPROVED_PLAN");
    if (approved == null || approved.isBlank()) {
      return;
    }
    Plan now = Plan.of(migrations, target, env.get("SCHEMAGATE_PLAN_INPUTS"));
    if (!now.hash.equals(approved.strip())) {
      throw new RunnerException(
          ExitCode.PLAN_CHANGED,
          "the approved plan "
              + approved.strip()
              + " is no longer the plan: the database or the migrations changed since it was"
              + " made (the plan now is "
              + now.hash
              + "); nothing was applied. Review the new plan and approve it",
          null,
          null);
    }
    Console.info("the plan " + now.hash + " is the approved one");
  }

  /**
   * The Job contract's direction plan: the pending migrations to the target, their SQL and the plan
   * hash; with SCHEMAGATE_REHEARSE=true also a rehearsal. Changes nothing.
   */
  int plan(String target) {
    long start = System.nanoTime();
    RunnerSettings settings = null;
    String result = null;
    try {
      settings = RunnerSettings.fromEnvironment(env);
      DatabaseSettings db = DatabaseSettings.fromEnvironment(env);
      boolean rehearse = "true".equalsIgnoreCase(env.getOrDefault("SCHEMAGATE_REHEARSE", ""));
      Console.info(
          "planning "
              + target
              + (rehearse ? " with a rehearsal" : "")
              + " on "
              + db.describe()
              + " from "
              + String.join(",", settings.locations()));
      RunnerSettings s = settings;
      Migrations migrations = new Migrations(db, settings, target, false);
      Plan plan =
          migrations.locked(
              watch -> {
                Plan p = Plan.of(migrations, target, env.get("SCHEMAGATE_PLAN_INPUTS"));
                p.readSql();
                if (rehearse) {
                  p.rehearse(db, s, watch);
                }
                return p;
              });
      out.println(plan.sql);
      long ms = (System.nanoTime() - start) / 1_000_000;
      result = plan.resultJson(ms);
      Console.info(
          "plan "
              + plan.hash
              + ": "
              + plan.steps.size()
              + " pending migration(s), "
              + blankAs(plan.current, "empty")
              + " -> "
              + blankAs(plan.reaches(), "empty")
              + " in "
              + ms
              + " ms; nothing was changed");
      return ExitCode.OK;
    } catch (RuntimeException failure) {
      RunnerException e =
          failure instanceof RunnerException r
              ? r
              : new RunnerException(ExitCode.CONFIGURATION, failure.getMessage(), null, failure);
      Report report = new Report("plan");
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      report.error = ExitCode.reason(e.exitCode());
      report.message = e.getMessage();
      result = report.toJson();
      Console.error(e.getMessage());
      return e.exitCode();
    } finally {
      Path file =
          settings != null
              ? settings.resultFile()
              : RunnerSettings.fromEnvironmentOrDefault(env).resultFile();
      try {
        Files.writeString(file, result, StandardCharsets.UTF_8);
      } catch (IOException | RuntimeException e) {
        Console.warn("could not write the result to " + file + ": " + e.getMessage());
      }
    }
  }

  /**
   * The Job contract's direction check, for drift detection: the fingerprint of the managed schema
   * and the current version. Changes nothing and takes no lock; when a run holds the migration lock
   * it reads nothing and does not wait (exit 11, MigrationRunning).
   */
  int check() {
    Report report = new Report("check");
    long start = System.nanoTime();
    RunnerSettings settings = null;
    try {
      settings = RunnerSettings.fromEnvironment(env);
      DatabaseSettings db = DatabaseSettings.fromEnvironment(env);
      Console.info("checking the schema " + settings.schema() + " on " + db.describe());
      reachable(db, settings).check(report);
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      Console.info(
          "schema "
              + report.schema.fingerprint()
              + " at "
              + blankAs(report.toRevision, "empty")
              + " in "
              + report.durationMs
              + " ms; nothing was changed");
      return ExitCode.OK;
    } catch (RunnerException e) {
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      report.message = e.getMessage();
      if (e.exitCode() == ExitCode.MIGRATION_RUNNING) {
        report.skipped = ExitCode.reason(e.exitCode());
        Console.warn(e.getMessage());
      } else {
        report.error = ExitCode.reason(e.exitCode());
        Console.error(e.getMessage());
      }
      return e.exitCode();
    } catch (SQLException e) {
      report.durationMs = (System.nanoTime() - start) / 1_000_000;
      report.error = ExitCode.reason(ExitCode.UNREACHABLE);
      report.message = e.getMessage();
      Console.error(e.getMessage());
      return ExitCode.UNREACHABLE;
    } finally {
      report.write(
          settings != null
              ? settings.resultFile()
              : RunnerSettings.fromEnvironmentOrDefault(env).resultFile());
    }
  }

  private static String blankAs(String s, String fallback) {
    return s == null || s.isEmpty() ? fallback : s;
  }

  @Command(name = "migrate", description = "Migrate up to exactly the target version (or latest).")
  static final class Migrate implements Callable<Integer> {
    @ParentCommand Runner runner;

    @Option(
        names = "--target",
        required = true,
        description = "a version such as 5 or 1.2, or latest")
    String target;

    @Override
    public Integer call() {
      return runner.change("upgrade", target);
    }
  }

  @Command(
      name = "undo",
      description = "Run the U scripts of every applied version above the target, newest first.")
  static final class Undo implements Callable<Integer> {
    @ParentCommand Runner runner;

    @Option(names = "--target", required = true, description = "the version to go down to")
    String target;

    @Override
    public Integer call() {
      return runner.change("downgrade", target);
    }
  }

  @Command(name = "info", description = "The applied and pending migrations, as JSON on stdout.")
  static final class Info implements Callable<Integer> {
    @ParentCommand Runner runner;

    @Override
    public Integer call() {
      return guarded(
          () -> {
            RunnerSettings settings = RunnerSettings.fromEnvironment(runner.env);
            DatabaseSettings db = DatabaseSettings.fromEnvironment(runner.env);
            Migrations migrations = reachable(db, settings);
            List<Object> list = new ArrayList<>();
            for (MigrationInfo m : migrations.all()) {
              Map<String, Object> item = new LinkedHashMap<>();
              item.put("version", m.getVersion() == null ? null : m.getVersion().getVersion());
              item.put("description", m.getDescription());
              item.put("type", m.getType() == null ? null : m.getType().name());
              item.put("kind", m.getVersion() == null ? null : Kinds.of(m));
              item.put("state", m.getState().getDisplayName());
              item.put("script", m.getScript());
              item.put(
                  "installedOn",
                  m.getInstalledOn() == null ? null : m.getInstalledOn().toInstant().toString());
              item.put("executionTimeMs", m.getExecutionTime());
              list.add(item);
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("database", db.describe());
            info.put("schema", settings.schema());
            info.put("table", settings.table());
            info.put("current", migrations.currentVersion());
            info.put("migrations", list);
            runner.out.println(Secrets.mask(Json.write(info)));
            return ExitCode.OK;
          });
    }
  }

  @Command(
      name = "validate",
      description = "Flyway's validation: checksums, applied migrations missing locally.")
  static final class Validate implements Callable<Integer> {
    @ParentCommand Runner runner;

    @Override
    public Integer call() {
      return guarded(
          () -> {
            Migrations migrations =
                reachable(
                    DatabaseSettings.fromEnvironment(runner.env),
                    RunnerSettings.fromEnvironment(runner.env));
            ValidateResult result = migrations.validate();
            if (result.validationSuccessful) {
              Console.info("valid: " + result.validateCount + " migration(s) checked");
              return ExitCode.OK;
            }
            for (ValidateOutput invalid : result.invalidMigrations) {
              Console.error(
                  "invalid "
                      + (invalid.version == null ? "" : invalid.version + " ")
                      + invalid.description
                      + ": "
                      + invalid.errorDetails.errorMessage);
            }
            return ExitCode.VALIDATION;
          });
    }
  }

  @Command(
      name = "repair",
      description =
          "Remove the failed rows a migration outside a transaction left in the schema history.")
  static final class Repair implements Callable<Integer> {
    @ParentCommand Runner runner;

    @Override
    public Integer call() {
      return guarded(
          () -> {
            RunnerSettings settings = RunnerSettings.fromEnvironment(runner.env);
            DatabaseSettings db = DatabaseSettings.fromEnvironment(runner.env);
            Migrations migrations = reachable(db, settings);
            List<String> removed =
                migrations.locked(
                    watch -> {
                      List<String> rows = migrations.removeFailedRows();
                      Set<String> invalid = watch.invalidIndexes(settings.schema());
                      if (!invalid.isEmpty()) {
                        Console.warn(
                            "INVALID indexes in "
                                + settings.schema()
                                + ": "
                                + String.join(", ", invalid)
                                + " (drop the ones a failed migration left: DROP INDEX CONCURRENTLY IF EXISTS <name>)");
                      }
                      return rows;
                    });
            Console.info(
                removed.isEmpty()
                    ? "no failed migration in the history"
                    : "removed the failed row(s) of "
                        + String.join(", ", removed)
                        + "; the next migrate runs them again");
            return ExitCode.OK;
          });
    }
  }

  /** Flyway for reading (pending migrations are no error), once the database answers. */
  static Migrations reachable(DatabaseSettings db, RunnerSettings settings) throws SQLException {
    Connections.open(db, settings).close();
    return new Migrations(db, settings, null, true);
  }

  interface Action {
    int run() throws Exception;
  }

  static int guarded(Action action) {
    try {
      return action.run();
    } catch (RunnerException e) {
      Console.error(e.getMessage());
      return e.exitCode();
    } catch (Exception e) {
      Console.error(e.getMessage());
      return ExitCode.CONFIGURATION;
    }
  }
}
