package dev.schemagate.runner;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/** The runner's own settings, from the environment. */
public record RunnerSettings(
    String[] locations,
    String schema,
    String table,
    int connectRetries,
    int connectRetryMaxIntervalSeconds,
    Path resultFile) {

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
        Path.of(env.getOrDefault("SCHEMAGATE_RESULT_FILE", "/dev/termination-log")));
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
          Path.of(env.getOrDefault("SCHEMAGATE_RESULT_FILE", "/dev/termination-log")));
    }
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
}
