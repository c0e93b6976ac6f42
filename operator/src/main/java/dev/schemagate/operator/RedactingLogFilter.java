package dev.schemagate.operator;

import dev.schemagate.redact.Redactor;
import io.quarkus.logging.LoggingFilter;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import org.jboss.logmanager.ExtLogRecord;

/**
 * Every log line of the operator (its own, the operator SDK's, the Kubernetes client's) passes
 * through schemagate's redaction: the message, and the messages of an exception and its causes.
 * Named in application.properties (quarkus.log.console.filter). Log lines seldom repeat: they skip
 * the redaction's memo (Redactor.redactOnce), which is kept for status messages.
 */
@LoggingFilter(name = "redact")
public final class RedactingLogFilter implements Filter {

  @Override
  public boolean isLoggable(LogRecord record) {
    String message =
        record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
    String redacted = Redactor.redactOnce(message);
    if (record instanceof ExtLogRecord ext) {
      ext.setMessage(redacted, ExtLogRecord.FormatStyle.NO_FORMAT);
    } else {
      record.setMessage(redacted);
    }
    record.setParameters(null);
    if (record.getThrown() != null && !(record.getThrown() instanceof Redacted)) {
      record.setThrown(Redacted.of(record.getThrown(), new IdentityHashMap<>()));
    }
    return true;
  }

  /** An exception as it prints, with its message redacted; its stack trace and causes kept. */
  static final class Redacted extends RuntimeException {
    private final String text;

    private Redacted(String text, Throwable cause) {
      super(text, cause, true, true);
      this.text = text;
    }

    static Redacted of(Throwable t, Map<Throwable, Redacted> seen) {
      Redacted done = seen.get(t);
      if (done != null) {
        return done;
      }
      seen.put(t, null); // a cause that loops back ends the chain
      Throwable cause = t.getCause();
      Redacted copy =
          new Redacted(
              Redactor.redactOnce(t.toString()),
              cause == null || seen.containsKey(cause) ? null : of(cause, seen));
      seen.put(t, copy);
      copy.setStackTrace(t.getStackTrace());
      for (Throwable suppressed : t.getSuppressed()) {
        if (!seen.containsKey(suppressed)) {
          copy.addSuppressed(of(suppressed, seen));
        }
      }
      return copy;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this; // the original's is set instead
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
