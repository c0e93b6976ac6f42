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

/**
 * A Job's command lines (none, migrate --target T, undo --target T) run without picocli, with the
 * outcome picocli gives the same command written another way; every other command line is
 * picocli's.
 */
class RunnerCommandLineTest {
  @TempDir Path work;

  record Outcome(int exit, String result) {}

  Outcome run(String name, String... args) throws Exception {
    Path result = work.resolve(name + ".json");
    Runner runner =
        new Runner(
            Map.of(
                "DATABASE_URL",
                "postgresql://nobody@127.0.0.1:1/none",
                "SCHEMAGATE_CONNECT_RETRIES",
                "0",
                "SCHEMAGATE_RESULT_FILE",
                result.toString()),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    int exit = runner.run(args);
    return new Outcome(
        exit,
        Files.exists(result)
            ? Files.readString(result).replaceAll("\"durationMs\":\\d+", "\"durationMs\":0")
            : "");
  }

  @Test
  void aJobsCommandLineEndsAsPicocliEndsTheSameCommand() throws Exception {
    Outcome direct = run("direct", "migrate", "--target", "latest");
    Outcome parsed = run("parsed", "migrate", "--target=latest");
    assertThat(direct.exit()).isEqualTo(ExitCode.UNREACHABLE).isEqualTo(parsed.exit());
    assertThat(direct.result())
        .contains("\"direction\":\"upgrade\"", "\"error\":\"DatabaseUnreachable\"")
        .isEqualTo(parsed.result());

    Outcome undo = run("undo", "undo", "--target", "3");
    assertThat(undo.exit()).isEqualTo(ExitCode.UNREACHABLE);
    assertThat(undo.result()).isEqualTo(run("undo-parsed", "undo", "--target=3").result());
    assertThat(undo.result()).contains("\"direction\":\"downgrade\"");

    assertThat(run("contract").exit())
        .as("no arguments: the Job contract")
        .isEqualTo(direct.exit());
  }

  @Test
  void anyOtherCommandLineIsPicoclis() throws Exception {
    Runner runner = new Runner(Map.of(), System.out);
    assertThat(runner.direct(new String[] {"info"})).isNull();
    assertThat(runner.direct(new String[] {"migrate", "--target"})).isNull();
    assertThat(runner.direct(new String[] {"migrate", "--target", "--help"})).isNull();
    assertThat(runner.direct(new String[] {"migrate", "--target", "1", "extra"})).isNull();
    assertThat(run("missing", "migrate", "--target").exit())
        .as("picocli's usage error")
        .isEqualTo(2);
  }
}
