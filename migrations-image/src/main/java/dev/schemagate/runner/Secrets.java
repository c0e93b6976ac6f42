package dev.schemagate.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Masks the database password wherever text leaves the runner (logs, errors, the result file). The
 * runner knows the password, so it masks the value itself, and also anything shaped like a
 * credential (a URL's user:password@, password=...).
 */
public final class Secrets {
  static final String MASK = "*****";
  private static final Pattern URL_PASSWORD =
      Pattern.compile("(?i)([a-z][a-z0-9+.-]*://[^:/?#\\s@]*:)[^@\\s/]+@");
  private static final Pattern KEY_VALUE =
      Pattern.compile("(?i)((?:password|passwd|pgpassword)[\"']?\\s*[=:]\\s*[\"']?)[^\\s\"'&;,}]+");
  private static final List<String> known = new ArrayList<>();

  private Secrets() {}

  /** Registers a value that must never be printed. */
  public static synchronized void register(String secret) {
    if (secret != null && !secret.isEmpty() && !known.contains(secret)) {
      known.add(secret);
    }
  }

  public static synchronized String mask(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String secret : known) {
      out = out.replace(secret, MASK);
    }
    out = URL_PASSWORD.matcher(out).replaceAll("$1" + MASK + "@");
    return KEY_VALUE.matcher(out).replaceAll("$1" + MASK);
  }
}
