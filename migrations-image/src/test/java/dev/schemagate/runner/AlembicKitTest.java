package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Alembic kit's own tests (alembic-kit/tests), run by pytest in the project's virtual
 * environment (.tools/python, which scripts/tools makes): the kit's logic without a database.
 * {@link AlembicJobTest} runs the whole kit on a real PostgreSQL.
 */
class AlembicKitTest {
  static final Path HOME = Path.of("..").toAbsolutePath().normalize();

  @Test
  void theKitsPytestSuitePasses() throws Exception {
    Path python = HOME.resolve(".tools/python/bin/python");
    assertThat(python).as("the project's virtual environment: run bash scripts/tools").exists();
    Process p =
        new ProcessBuilder(
                python.toString(),
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                "-rA",
                "alembic-kit/tests")
            .directory(HOME.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    System.out.println(out);
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).containsPattern("\\d+ passed").doesNotContain("FAILED", "ERROR", "SKIPPED");
  }
}
