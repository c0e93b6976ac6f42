package dev.schemagate.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Reading the result a Job left. */
class ResultParserTest {

  @Test
  void resultsAreReadFromJsonAlembicTextOrALogTail() {
    RunResult json =
        ResultParser.parse(
            "{\"tool\":\"flyway\",\"fromRevision\":\"1\",\"toRevision\":\"3\",\"applied\":[{\"revision\":\"2\",\"description\":\"add email\",\"durationMs\":12},{\"revision\":\"3\"}],\"omitted\":5}");
    assertThat(json.fromRevision()).isEqualTo("1");
    assertThat(json.toRevision()).isEqualTo("3");
    assertThat(json.applied()).extracting(a -> a.getRevision()).containsExactly("2", "3");
    assertThat(json.applied().get(0).getDurationMs()).isEqualTo(12L);
    assertThat(json.omitted()).isEqualTo(5);
    assertThat(
            ResultParser.parse(
                    "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n3f2a9c1b7d10 (head)\n")
                .toRevision())
        .isEqualTo("3f2a9c1b7d10");
    assertThat(ResultParser.parse("0003\n").toRevision()).isEqualTo("0003");
    RunResult tail =
        ResultParser.parse(
            "Traceback (most recent call last):\n  File x\nsqlalchemy.exc.ProgrammingError: relation \"app_user\" does not exist");
    assertThat(tail.toRevision()).isNull();
    assertThat(tail.message()).contains("relation \"app_user\" does not exist");
    assertThat(ResultParser.parse("").toRevision()).isNull();
    assertThat(ResultParser.parse("x".repeat(5000)).message()).hasSize(ResultParser.MAX_MESSAGE);
  }
}
