package dev.schemagate.redact;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one redaction of schemagate: what the operator writes (status, Events, logs, metrics labels)
 * and what the runner prints pass through here.
 *
 * <ul>
 *   <li>{@link #redact(String)} masks the shapes credentials take (the rules in {@code rules.txt}):
 *       the operator, which never reads a Secret, knows no password and relies on these.
 *   <li>{@link #redact(String, Collection)} first masks the passwords it is given, in every
 *       encoding they may appear in (raw, URL-encoded in any mix and case, form-encoded, JSON- or
 *       SQL-escaped), then the shapes: the runner knows the database password.
 * </ul>
 *
 * Masking is idempotent: redacting redacted text changes nothing.
 */
public final class Redactor {
  public static final String MASK = "*****";

  /** The rules, in order: each one's only group is the secret. */
  static final List<Pattern> RULES = load("rules.txt");

  /** Environment variable names whose values are secrets. */
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(?i).*(password|passwd|[_-]pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)$");

  /** User info in a URL-like value (a DSN, DATABASE_URL). */
  private static final Pattern URL_PASSWORD =
      Pattern.compile("(?i)^[a-z][a-z0-9+.\\-]*:?//[^\\s:/?#@]*:(.+)@[^@]*$");

  private Redactor() {}

  /** The text with every credential shape masked. */
  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (Pattern rule : RULES) {
      out = maskGroup(rule, out);
    }
    return out;
  }

  /** The text with the given secrets masked in every encoding, then every credential shape. */
  public static String redact(String text, Collection<String> secrets) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    String out = text;
    for (Pattern secret : patterns(secrets)) {
      out = secret.matcher(out).replaceAll(Matcher.quoteReplacement(MASK));
    }
    return redact(out);
  }

  /** Whether any encoding of the secret occurs in the text (for tests and checks). */
  public static boolean contains(String text, String secret) {
    return text != null && secret != null && pattern(secret).matcher(text).find();
  }

  /**
   * The secrets an environment holds: the values of variables named like secrets ({@code
   * PGPASSWORD}, {@code DB_PASSWORD}, {@code API_TOKEN}, ...) and the passwords in URL-like values
   * ({@code DATABASE_URL=postgresql://app:secret@db/orders}, raw and percent-decoded).
   */
  public static Set<String> secretsIn(Map<String, String> env) {
    Set<String> secrets = new LinkedHashSet<>();
    env.forEach(
        (name, value) -> {
          if (value == null || value.isBlank()) {
            return;
          }
          if (SECRET_NAME.matcher(name).matches()) {
            secrets.add(value);
          }
          Matcher url = URL_PASSWORD.matcher(value.strip());
          if (url.matches()) {
            secrets.add(url.group(1));
            secrets.add(percentDecode(url.group(1)));
          }
        });
    return secrets;
  }

  /** One pattern per secret, longest first, so that no secret is masked only in part. */
  static List<Pattern> patterns(Collection<String> secrets) {
    List<String> sorted = new ArrayList<>();
    for (String s : secrets) {
      if (s != null && !s.isEmpty() && !sorted.contains(s)) {
        sorted.add(s);
      }
    }
    sorted.sort(Comparator.comparingInt(String::length).reversed());
    return sorted.stream().map(Redactor::pattern).toList();
  }

  /**
   * A pattern of the secret in every encoding: each character raw or percent-encoded (its UTF-8
   * bytes, either case of hex), a space also as '+', a quote or backslash also escaped as JSON or
   * SQL escape them, so that any mix (a password encoded only where a URL needs it) matches.
   */
  static Pattern pattern(String secret) {
    StringBuilder regex = new StringBuilder();
    secret
        .codePoints()
        .forEach(
            cp -> {
              String ch = new String(Character.toChars(cp));
              List<String> forms = new ArrayList<>();
              forms.add(Pattern.quote(ch));
              StringBuilder encoded = new StringBuilder();
              for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                encoded.append(
                    String.format(
                        "%%[%X%x][%X%x]", (b >> 4) & 0xF, (b >> 4) & 0xF, b & 0xF, b & 0xF));
              }
              forms.add(encoded.toString());
              switch (ch) {
                case " " -> forms.add("\\+");
                case "\"" -> forms.add("\\\\\"");
                case "\\" -> forms.add("\\\\\\\\");
                case "/" -> forms.add("\\\\/");
                case "'" -> {
                  forms.add("''");
                  forms.add("\\\\'");
                }
                default -> {}
              }
              regex.append("(?:").append(String.join("|", forms)).append(')');
            });
    return Pattern.compile(regex.toString());
  }

  private static String maskGroup(Pattern rule, String text) {
    Matcher m = rule.matcher(text);
    StringBuilder out = null;
    int last = 0;
    while (m.find()) {
      if (m.group(1) == null) {
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length());
      }
      out.append(text, last, m.start(1)).append(MASK);
      last = m.end(1);
    }
    if (out == null) {
      return text;
    }
    return out.append(text, last, text.length()).toString();
  }

  private static String percentDecode(String s) {
    try {
      return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException notEncoded) {
      return s;
    }
  }

  /** The rules file: one pattern a line; blank lines and lines starting with '#' are comments. */
  static List<String> ruleLines(InputStream in) throws IOException {
    List<String> lines = new ArrayList<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (!line.isBlank() && !line.startsWith("#")) {
          lines.add(line);
        }
      }
    }
    return lines;
  }

  private static List<Pattern> load(String name) {
    try (InputStream in = Redactor.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return ruleLines(in).stream().map(Pattern::compile).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
