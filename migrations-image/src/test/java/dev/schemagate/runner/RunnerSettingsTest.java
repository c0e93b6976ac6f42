package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's settings come from the environment it is given, not from the process's. */
class RunnerSettingsTest {
  @TempDir Path work;

  @Test
  void theSessionsNameTheRunTheyBelongTo() {
    assertThat(
            RunnerSettings.fromEnvironment(
                    Map.of("SCHEMAGATE_MIGRATION", "shop/orders", "SCHEMAGATE_RUN_ID", "1a2b3c"))
                .applicationName())
        .isEqualTo("schemagate-runner shop/orders 1a2b3c");
    assertThat(RunnerSettings.fromEnvironment(Map.of()).applicationName())
        .isEqualTo("schemagate-runner");
    assertThat(
            RunnerSettings.fromEnvironment(Map.of("SCHEMAGATE_MIGRATION", "x".repeat(80)))
                .applicationName())
        .as("PostgreSQL keeps 63 bytes of it")
        .hasSize(63);
  }

  @Test
  void aRunnerReadsTheEnvironmentItIsGivenAndWritesItsResultWhereItSays() throws Exception {
    Path result = work.resolve("result.json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Runner runner =
        new Runner(
            Map.of(
                "SCHEMAGATE_DIRECTION",
                "check",
                "DATABASE_URL",
                "postgresql://nobody@127.0.0.1:1/none",
                "SCHEMAGATE_CONNECT_RETRIES",
                "0",
                "SCHEMAGATE_RESULT_FILE",
                result.toString()),
            new PrintStream(out, true, StandardCharsets.UTF_8));

    assertThat(runner.run(new String[0])).isEqualTo(ExitCode.UNREACHABLE);
    assertThat(Files.readString(result))
        .contains("\"direction\":\"check\"", "\"error\":\"DatabaseUnreachable\"");
    assertThat(
            new Runner(Map.of("SCHEMAGATE_DIRECTION", "sideways"), System.out).run(new String[0]))
        .isEqualTo(ExitCode.CONFIGURATION);
  }
}
