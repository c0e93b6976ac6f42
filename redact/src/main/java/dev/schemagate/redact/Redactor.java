package dev.schemagate.redact;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
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
 *       the operator, which never reads a Secret, knows no password and relies on these. It
 *       remembers its recent results ({@link Memo}): the operator redacts every message of a status
 *       on every reconcile, and a message it has seen costs a lookup.
 *   <li>{@link #redactOnce(String)} is the same without the memo, for text seen once (a log line).
 *   <li>{@link #redact(String, Collection)} first masks the passwords it is given, in every
 *       encoding they may appear in (raw, URL-encoded in any mix and case, form-encoded, JSON- or
 *       SQL-escaped), then the shapes: the runner knows the database password.
 * </ul>
 *
 * Every rule takes time linear in the text and no stack in proportion to it (see {@code
 * rules.txt}). Masking is idempotent: redacting redacted text changes nothing.
 */
public final class Redactor {
  public static final String MASK = "*****";

  /**
   * The rules, in order: each one's only group is the secret. UNIX_LINES: only '\n' ends a line for
   * '.', '^' and '$', as in Python (the same rules run there).
   */
  static final List<Pattern> RULES = load("rules.txt");

  /** Recent results of {@link #redact(String)}. */
  static final Memo MEMO = new Memo(4096, 1 << 20);

  /** Environment variable names whose values are secrets. */
  private static final Pattern SECRET_NAME =
      Pattern.compile(
          "(?i).*(password|passwd|[_-]pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)$");

  /** User info in a URL-like value (a DSN, DATABASE_URL). */
  private static final Pattern URL_PASSWORD =
      Pattern.compile("(?i)^[a-z][a-z0-9+.\\-]*:?//[^\\s:/?#@]*:(.+)@[^@]*$");

  private Redactor() {}

  /**
   * The text with every credential shape masked; text redacted lately (the same characters) is
   * answered from the memo.
   */
  public static String redact(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    return MEMO.get(text, Redactor::shapes);
  }

  /** As {@link #redact(String)}, without the memo: for text that will not come again. */
  public static String redactOnce(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    return shapes(text);
  }

  private static String shapes(String text) {
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
    for (KnownSecret secret : known(secrets)) {
      out = secret.mask(out, MASK);
    }
    return shapes(out);
  }

  /** Whether any encoding of the secret occurs in the text (for tests and checks). */
  public static boolean contains(String text, String secret) {
    return text != null && secret != null && new KnownSecret(secret).foundIn(text);
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

  /** The secrets, longest first, so that no secret is masked only in part. */
  static List<KnownSecret> known(Collection<String> secrets) {
    List<String> sorted = new ArrayList<>();
    for (String s : secrets) {
      if (s != null && !s.isEmpty() && !sorted.contains(s)) {
        sorted.add(s);
      }
    }
    sorted.sort(Comparator.comparingInt(String::length).reversed());
    return sorted.stream().map(KnownSecret::new).toList();
  }

  /** The text with the rule's group masked wherever the rule matches. */
  static String maskGroup(Pattern rule, CharSequence text) {
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
      return text.toString();
    }
    return out.append(text, last, text.length()).toString();
  }

  private static String percentDecode(String s) {
    try {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
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
      return ruleLines(in).stream().map(r -> Pattern.compile(r, Pattern.UNIX_LINES)).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
