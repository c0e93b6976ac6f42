package dev.schemagate.runner;

import dev.schemagate.redact.Redactor;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Masks the database password wherever text leaves the runner (logs, errors, the result file), with
 * schemagate's one redaction ({@link Redactor}): the password the runner knows, in every encoding
 * it may appear in (raw, URL-encoded, JSON- or SQL-escaped), then every shape a credential takes (a
 * URL's user:password@, password=..., PASSWORD '...', ...).
 */
public final class Secrets {
  static final String MASK = Redactor.MASK;
  private static final Set<String> known = new LinkedHashSet<>();

  private Secrets() {}

  /** Registers a value that must never be printed. */
  public static synchronized void register(String secret) {
    if (secret != null && !secret.isEmpty()) {
      known.add(secret);
    }
  }

  public static synchronized String mask(String text) {
    return Redactor.redact(text, known);
  }
}
