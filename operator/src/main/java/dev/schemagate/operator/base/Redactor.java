package dev.schemagate.operator.base;

import java.util.regex.Pattern;

/**
 * Removes what looks like a credential from text a Job reported. The operator never reads the
 * database Secret, so it cannot search for its values: it removes the shapes credentials take.
 */
public final class Redactor {
  public static final String MASK = "*****";
  private static final Pattern URL_PASSWORD =
      Pattern.compile("(?i)([a-z][a-z0-9+.-]*://[^:/?#\\s@]*:)[^@\\s/]+@");
  private static final Pattern KEY_VALUE =
      Pattern.compile(
          "(?i)((?:password|passwd|pwd|secret|token|pgpassword)[\"']?\\s*[=:]\\s*[\"']?)[^\\s\"'&;,}]+");

  private Redactor() {}

  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = URL_PASSWORD.matcher(text).replaceAll("$1" + MASK + "@");
    return KEY_VALUE.matcher(out).replaceAll("$1" + MASK);
  }
}
