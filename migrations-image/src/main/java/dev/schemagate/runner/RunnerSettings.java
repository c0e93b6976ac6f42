package dev.schemagate.runner;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The runner's own settings, from the environment. */
public record RunnerSettings(
    String[] locations,
    String schema,
    String table,
    int connectRetries,
    int connectRetryMaxIntervalSeconds,
    Path resultFile,
    long lockTimeoutMs,
    long statementTimeoutMs,
    int lockRetries,
    long runLockWaitMs,
    long deadlineSeconds,
    String applicationName,
    boolean holdContract,
    String baseline) {

  /** Defaults of the lock settings (the DatabaseMigration's spec.locks has the same). */
  static final long DEFAULT_LOCK_TIMEOUT_MS = 2_000;

  static final int DEFAULT_LOCK_RETRIES = 10;
  static final long DEFAULT_RUN_LOCK_WAIT_MS = 60_000;

  private static final Pattern DURATION = Pattern.compile("^([0-9]+)(ms|s|m|min|h)?$");

  public static RunnerSettings fromEnvironment(Map<String, String> env) {
    String[] locations =
        Arrays.stream(env.getOrDefault("SCHEMAGATE_LOCATIONS", "/migrations").split(","))
            .map(String::strip)
            .filter(s -> !s.isEmpty())
            .map(s -> s.contains(":") ? s : "filesystem:" + s)
            .toArray(String[]::new);
    return new RunnerSettings(
        locations,
        env.getOrDefault("SCHEMAGATE_SCHEMA", "public"),
        env.getOrDefault("SCHEMAGATE_HISTORY_TABLE", "flyway_schema_history"),
        number(env, "SCHEMAGATE_CONNECT_RETRIES", 5),
        number(env, "SCHEMAGATE_CONNECT_RETRY_MAX_INTERVAL_SECONDS", 10),
        resultFile(env),
        millis(env, "SCHEMAGATE_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_MS),
        millis(env, "SCHEMAGATE_STATEMENT_TIMEOUT", 0),
        number(env, "SCHEMAGATE_LOCK_RETRIES", DEFAULT_LOCK_RETRIES),
        millis(env, "SCHEMAGATE_RUN_LOCK_WAIT", DEFAULT_RUN_LOCK_WAIT_MS),
        number(env, "SCHEMAGATE_DEADLINE_SECONDS", 0),
        applicationName(env),
        holdContract(env),
        baseline(env));
  }

  /** The settings, or the defaults when the environment has a bad value (to report it). */
  public static RunnerSettings fromEnvironmentOrDefault(Map<String, String> env) {
    try {
      return fromEnvironment(env);
    } catch (RunnerException e) {
      return new RunnerSettings(
          new String[] {"filesystem:/migrations"},
          "public",
          "flyway_schema_history",
          5,
          10,
          resultFile(env),
          DEFAULT_LOCK_TIMEOUT_MS,
          0,
          DEFAULT_LOCK_RETRIES,
          DEFAULT_RUN_LOCK_WAIT_MS,
          0,
          applicationName(env),
          false,
          null);
    }
  }

  /**
   * SCHEMAGATE_CONTRACT: {@code hold} stops an upgrade before its first contract migration (the
   * operator runs the rest once the app has rolled out); {@code apply} (the default) applies every
   * migration up to the target.
   */
  static boolean holdContract(Map<String, String> env) {
    String value = env.getOrDefault("SCHEMAGATE_CONTRACT", "").strip();
    return switch (value) {
      case "", "apply" -> false;
      case "hold" -> true;
      default ->
          throw new RunnerException(
              ExitCode.CONFIGURATION,
              "SCHEMAGATE_CONTRACT must be hold or apply, not \"" + value + "\"");
    };
  }

  /**
   * SCHEMAGATE_BASELINE: the version a database that has objects but no schema history is at; the
   * runner records it as Flyway's baseline before it migrates. Null when not set.
   */
  static String baseline(Map<String, String> env) {
    String value = env.getOrDefault("SCHEMAGATE_BASELINE", "").strip();
    if (value.isEmpty()) {
      return null;
    }
    try {
      org.flywaydb.core.api.MigrationVersion.fromVersion(value);
    } catch (RuntimeException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          "SCHEMAGATE_BASELINE (spec.baseline.revision) must be a version such as 3 or 1.2, not \""
              + value
              + "\"");
    }
    return value;
  }

  /**
   * The name the runner's database sessions carry: schemagate-runner and the run
   * (SCHEMAGATE_MIGRATION, SCHEMAGATE_RUN_ID), so that a lock's holder names its Job.
   */
  static String applicationName(Map<String, String> env) {
    String migration = env.getOrDefault("SCHEMAGATE_MIGRATION", "");
    String run = env.getOrDefault("SCHEMAGATE_RUN_ID", "");
    String name = ("schemagate-runner " + migration + (run.isEmpty() ? "" : " " + run)).strip();
    return name.length() > 63 ? name.substring(0, 63) : name;
  }

  private static Path resultFile(Map<String, String> env) {
    return Path.of(env.getOrDefault("SCHEMAGATE_RESULT_FILE", "/dev/termination-log"));
  }

  private static int number(Map<String, String> env, String name, int fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(value.strip());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          name + " must be a whole number of 0 or more, not \"" + value + "\"");
    }
  }

  /**
   * A duration such as 500ms, 2s, 1m (a bare number is milliseconds, as in PostgreSQL); 0 is off.
   */
  static long millis(Map<String, String> env, String name, long fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    Matcher m = DURATION.matcher(value.strip());
    if (!m.matches()) {
      throw new RunnerException(
          ExitCode.CONFIGURATION,
          name
              + " must be a duration such as 500ms, 2s or 1m (0 turns it off), not \""
              + value
              + "\"");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "ms" : m.group(2);
    return switch (unit) {
      case "s" -> n * 1_000;
      case "m", "min" -> n * 60_000;
      case "h" -> n * 3_600_000;
      default -> n;
    };
  }
}
