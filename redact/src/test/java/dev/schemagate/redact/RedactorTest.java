package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The redaction, on the corpus of password shapes kept in src/test/resources. */
class RedactorTest {

  static Stream<Corpus.Case> shapes() throws Exception {
    return Corpus.load().shapes().stream();
  }

  static Stream<Corpus.Case> all() throws Exception {
    return Corpus.load().cases().stream();
  }

  @Test
  void theCorpusHoldsEveryShapeTheIssueNames() throws Exception {
    Corpus corpus = Corpus.load();
    assertThat(corpus.cases()).hasSizeGreaterThanOrEqualTo(50);
    assertThat(corpus.cases().stream().map(Corpus.Case::name))
        .anyMatch(n -> n.startsWith("url: raw @"))
        .anyMatch(n -> n.startsWith("url: raw /"))
        .anyMatch(n -> n.startsWith("url: spaces"))
        .anyMatch(n -> n.startsWith("url: percent-escapes"))
        .anyMatch(n -> n.startsWith("json: spaces and commas"))
        .anyMatch(n -> n.startsWith("key=value: a comma"))
        .anyMatch(n -> n.startsWith("sql: "))
        .anyMatch(n -> n.startsWith("PGPASSWORD"))
        .anyMatch(n -> n.startsWith("libpq"))
        .anyMatch(n -> n.startsWith("jdbc"))
        .anyMatch(n -> n.startsWith("sqlalchemy"))
        .anyMatch(n -> n.startsWith("stack trace"))
        .anyMatch(n -> n.startsWith("known: URL-encoded"))
        .anyMatch(n -> n.startsWith("url: a cloud IAM token"))
        .anyMatch(n -> n.startsWith("url: an OAuth access token"))
        .anyMatch(n -> n.startsWith("python: a bytes repr"))
        .anyMatch(n -> n.startsWith("key=value: ODBC with spaces"))
        .anyMatch(n -> n.startsWith("key=value: pass="))
        .anyMatch(n -> n.startsWith("key=value: pw="))
        .anyMatch(n -> n.startsWith("pgpass:"))
        .anyMatch(n -> n.startsWith("ordinary log text"));
    assertThat(corpus.cases())
        .filteredOn(c -> c.name().startsWith("url: a cloud IAM token"))
        .allMatch(c -> c.secrets().get(0).length() > 256);
  }

  /** The operator's way: it knows no password, the shapes alone must hide it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("shapes")
  void theShapesAloneMaskEachCase(Corpus.Case c) {
    String out = Redactor.redact(c.input());
    assertThat(out).isEqualTo(c.expected());
    c.secrets().forEach(s -> assertThat(Redactor.contains(out, s)).as(s).isFalse());
  }

  /** The runner's way: it knows the password and masks it in every encoding, then the shapes. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("all")
  void aKnownPasswordIsMaskedInEveryEncoding(Corpus.Case c) {
    String out = Redactor.redact(c.input(), c.secrets());
    assertThat(out).isEqualTo(c.expected());
    c.secrets().forEach(s -> assertThat(Redactor.contains(out, s)).as(s).isFalse());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("all")
  void maskingIsIdempotent(Corpus.Case c) {
    assertThat(Redactor.redact(c.expected())).isEqualTo(c.expected());
    assertThat(Redactor.redact(c.expected(), c.secrets())).isEqualTo(c.expected());
  }

  @Test
  void eachRuleHasExactlyOneGroupTheSecret() {
    assertThat(Redactor.RULES).hasSizeGreaterThanOrEqualTo(10);
    for (Pattern rule : Redactor.RULES) {
      assertThat(rule.matcher("").groupCount()).as(rule.pattern()).isEqualTo(1);
    }
  }

  @Test
  void theSecretsOfAnEnvironmentAreItsSecretNamedValuesAndItsUrlPasswords() {
    assertThat(
            Redactor.secretsIn(
                Map.of(
                    "DATABASE_URL", "postgresql+asyncpg://app:p%40ss@db:5432/orders",
                    "PGPASSWORD", "pg-pw",
                    "API_TOKEN", "tok",
                    "DB_PASS", "dbpass",
                    "PATH", "/usr/bin",
                    "PWD", "/work",
                    "SCHEMAGATE_TARGET_REVISION", "5")))
        .containsExactlyInAnyOrder("p%40ss", "p@ss", "pg-pw", "tok", "dbpass");
  }

  @Test
  void nullAndEmptyPassThrough() {
    assertThat(Redactor.redact(null)).isNull();
    assertThat(Redactor.redact("")).isEmpty();
    assertThat(Redactor.redact("plain", List.of())).isEqualTo("plain");
    assertThat(Redactor.redact("a\nb", List.of(""))).isEqualTo("a\nb");
  }
}
