package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A known secret in every encoding, matched without a regular expression: the same results as the
 * regular expression it replaces (which the Python copy still uses), and no limit on the secret's
 * length (java.util.regex could not compile one of 4 KB: "Stack overflow during pattern
 * compilation").
 */
class KnownSecretTest {

  @Test
  void itMasksWhatTheRegularExpressionOfEveryEncodingMasks() {
    Random random = new Random(26);
    String alphabet = "ab%2F'\"\\/ +é€\ud83d\udd11";
    List<String> differ = new ArrayList<>();
    for (int n = 0; n < 3000; n++) {
      StringBuilder secret = new StringBuilder();
      for (int k = 1 + random.nextInt(8); k > 0; k--) {
        secret.appendCodePoint(
            alphabet.codePointAt(
                alphabet.offsetByCodePoints(
                    0, random.nextInt(alphabet.codePointCount(0, alphabet.length())))));
      }
      String text = around(random, encoded(random, secret.toString()), alphabet);
      String expected =
          regex(secret.toString()).matcher(text).replaceAll(Matcher.quoteReplacement("*****"));
      String got = new KnownSecret(secret.toString()).mask(text, "*****");
      if (!got.equals(expected)) {
        differ.add(String.format("secret %s text %s: %s, not %s", secret, text, got, expected));
      }
      boolean found = regex(secret.toString()).matcher(text).find();
      if (new KnownSecret(secret.toString()).foundIn(text) != found) {
        differ.add(String.format("secret %s text %s: found %s", secret, text, !found));
      }
    }
    assertThat(differ).isEmpty();
  }

  @Test
  void aSecretOfManyKilobytesIsMaskedInEveryEncodingOnASmallStack() throws Exception {
    // a cloud token as long as they come, raw and percent-encoded in a 64 KB text
    StringBuilder token = new StringBuilder("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.");
    Random random = new Random(7);
    while (token.length() < 16384) {
      token.append(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_/+="
              .charAt(random.nextInt(66)));
    }
    String secret = token.toString();
    String encoded = java.net.URLEncoder.encode(secret, StandardCharsets.UTF_8);
    String text =
        "password authentication failed for "
            + secret
            + "; tried postgresql://app:"
            + encoded
            + "@db/orders; "
            + "x".repeat(65536 - 2 * secret.length());
    AtomicReference<Object> result = new AtomicReference<>();
    Thread thread =
        new Thread(
            null,
            () -> {
              try {
                result.set(Redactor.redact(text, List.of(secret)));
              } catch (Throwable t) {
                result.set(t);
              }
            },
            "redact",
            256 * 1024);
    thread.start();
    thread.join();
    assertThat(result.get()).isInstanceOf(String.class);
    String out = (String) result.get();
    assertThat(out)
        .startsWith("password authentication failed for *****; tried postgresql://app:*****@db/");
    assertThat(Redactor.contains(out, secret)).isFalse();
    assertThat(Redactor.contains(text, secret)).isTrue();
  }

  /** The secret with each character raw or in one of its other encodings, picked at random. */
  static String encoded(Random random, String secret) {
    StringBuilder out = new StringBuilder();
    secret
        .codePoints()
        .forEach(
            cp -> {
              String ch = new String(Character.toChars(cp));
              switch (random.nextInt(4)) {
                case 0 -> {
                  for (byte b : ch.getBytes(StandardCharsets.UTF_8)) {
                    String hex = String.format("%02X", b & 0xFF);
                    out.append('%').append(random.nextBoolean() ? hex : hex.toLowerCase());
                  }
                }
                case 1 ->
                    out.append(
                        switch (ch) {
                          case " " -> "+";
                          case "\"" -> "\\\"";
                          case "\\" -> "\\\\";
                          case "/" -> "\\/";
                          case "'" -> random.nextBoolean() ? "''" : "\\'";
                          default -> ch;
                        });
                default -> out.append(ch);
              }
            });
    return out.toString();
  }

  static String around(Random random, String middle, String alphabet) {
    StringBuilder out = new StringBuilder();
    for (int k = random.nextInt(4); k > 0; k--) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length() - 2)));
    }
    out.append(middle);
    if (random.nextBoolean()) {
      out.append(middle);
    }
    for (int k = random.nextInt(4); k > 0; k--) {
      out.append(alphabet.charAt(random.nextInt(alphabet.length() - 2)));
    }
    return out.toString();
  }

  /** The regular expression Redactor used before, as the Python copy still builds it. */
  static Pattern regex(String secret) {
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
}
