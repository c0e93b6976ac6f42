package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Python copies of the redaction, for the Alembic path (which runs in the migration image's
 * Python, not in Java): the operator's Alembic wrapper and the example's env.py helper. Each is the
 * same block, holds rules.txt verbatim, and passes the corpus as the Java one does.
 */
class PythonCopiesTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String WRAPPER =
      "operator/src/main/resources/dev/schemagate/operator/run/alembic-run.sh";
  static final String HELPER = "examples/fastapi-alembic/schemagate_alembic.py";
  static final String BEGIN = "# --- schemagate redaction: begin";
  static final String END = "# --- schemagate redaction: end";

  static String block(String file) throws IOException {
    String text = Files.readString(ROOT.resolve(file));
    assertThat(text).as(file).contains(BEGIN, END);
    return text.substring(text.indexOf(BEGIN), text.indexOf(END) + END.length());
  }

  @ParameterizedTest
  @ValueSource(strings = {WRAPPER, HELPER})
  void eachCopyIsTheSameBlockWithTheRulesVerbatim(String file) throws IOException {
    assertThat(block(file)).as(file + " and " + HELPER).isEqualTo(block(HELPER));
    String rules =
        Files.readString(ROOT.resolve("redact/src/main/resources/dev/schemagate/redact/rules.txt"));
    assertThat(block(file))
        .as("rules.txt, verbatim, in " + file)
        .contains("_REDACTION_RULES = r\"\"\"\n" + rules + "\"\"\"\n");
  }

  @ParameterizedTest
  @ValueSource(strings = {WRAPPER, HELPER})
  void eachCopyPassesTheCorpus(String file) throws Exception {
    Process p =
        new ProcessBuilder(
                List.of(
                    python(),
                    Path.of("src/test/resources/run_corpus.py").toAbsolutePath().toString(),
                    ROOT.resolve(file).toString(),
                    Corpus.FILE.toString()))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    int cases = Corpus.load().cases().size();
    int runs = cases + Corpus.load().shapes().size();
    assertThat(out).as(out).contains(cases + " cases, " + runs + " passed, 0 failed");
    assertThat(p.exitValue()).isZero();
  }

  /** The example's Python (scripts/tools), else the machine's. */
  static String python() {
    Path venv = ROOT.resolve(".tools/python/bin/python");
    return Files.isExecutable(venv) ? venv.toString() : "python3";
  }
}
