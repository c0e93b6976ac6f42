package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Level;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/** Every log line of the operator passes through the redaction, exceptions included. */
class RedactingLogFilterTest {

  @Test
  void theMessageItsParametersAndTheExceptionChainAreRedacted() {
    ExtLogRecord record =
        new ExtLogRecord(
            Level.WARNING, "could not reach %s: %s", ExtLogRecord.FormatStyle.PRINTF, "test");
    record.setParameters(
        new Object[] {"postgresql://app:p@ss w0rd@db/orders", "password='se cret, x'"});
    IllegalStateException cause =
        new IllegalStateException("[SQL: ALTER ROLE app PASSWORD 'inner-S3cret']");
    record.setThrown(new RuntimeException("DATABASE_URL=postgresql://a:outer-S3cret@db/x", cause));

    assertThat(new RedactingLogFilter().isLoggable(record)).isTrue();

    assertThat(record.getFormattedMessage())
        .isEqualTo("could not reach postgresql://app:*****@db/orders: password='*****'");
    StringWriter trace = new StringWriter();
    record.getThrown().printStackTrace(new PrintWriter(trace));
    assertThat(trace.toString())
        .contains("java.lang.RuntimeException: DATABASE_URL=postgresql://a:*****@db/x")
        .contains("Caused by: java.lang.IllegalStateException: [SQL: ALTER ROLE app PASSWORD")
        .contains("RedactingLogFilterTest.theMessageItsParametersAndTheExceptionChainAreRedacted")
        .doesNotContain("outer-S3cret")
        .doesNotContain("inner-S3cret")
        .doesNotContain("p@ss w0rd")
        .doesNotContain("se cret");
  }
}
