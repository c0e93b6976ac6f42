package dev.schemagate.redact;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A known secret in every encoding it may appear in: each character raw or percent-encoded (its
 * UTF-8 bytes, either case of hex), a space also as '+', a quote or backslash also escaped as JSON
 * or SQL escape them, in any mix (a password encoded only where a URL needs it).
 *
 * <p>It matches as the regular expression {@code (?:c1|%XX|...)(?:c2|...)...} of the Python copy
 * does (the first encoding of each character that leads to a match wins, leftmost match first),
 * without a regular expression: java.util.regex recurses once per character of such a pattern and
 * cannot compile one for a secret of a few KB (a cloud token as PGPASSWORD). Its own search is a
 * loop with a stack on the heap, and visits each (character of the secret, place in the text) at
 * most once per start.
 */
final class KnownSecret {
  /** For each character of the secret, its encodings; each one a run of sets of characters. */
  private final char[][][][] forms;

  KnownSecret(String secret) {
    List<char[][][]> chars = new ArrayList<>();
    secret
        .codePoints()
        .forEach(
            cp -> {
              String ch = new String(Character.toChars(cp));
              List<char[][]> encodings = new ArrayList<>();
              encodings.add(literal(ch));
              byte[] utf8 = ch.getBytes(StandardCharsets.UTF_8);
              char[][] percent = new char[3 * utf8.length][];
              for (int i = 0; i < utf8.length; i++) {
                percent[3 * i] = new char[] {'%'};
                percent[3 * i + 1] = hex((utf8[i] >> 4) & 0xF);
                percent[3 * i + 2] = hex(utf8[i] & 0xF);
              }
              encodings.add(percent);
              switch (ch) {
                case " " -> encodings.add(literal("+"));
                case "\"" -> encodings.add(literal("\\\""));
                case "\\" -> encodings.add(literal("\\\\"));
                case "/" -> encodings.add(literal("\\/"));
                case "'" -> {
                  encodings.add(literal("''"));
                  encodings.add(literal("\\'"));
                }
                default -> {}
              }
              chars.add(encodings.toArray(char[][][]::new));
            });
    this.forms = chars.toArray(char[][][][]::new);
  }

  /** The text with every occurrence masked, leftmost first. */
  String mask(String text, String mask) {
    Search search = new Search(text);
    StringBuilder out = null;
    int last = 0;
    for (int start = 0; start < text.length(); ) {
      int end = search.matchAt(start);
      if (end < 0) {
        start++;
        continue;
      }
      if (out == null) {
        out = new StringBuilder(text.length());
      }
      out.append(text, last, start).append(mask);
      last = end;
      start = end > start ? end : start + 1;
    }
    return out == null ? text : out.append(text, last, text.length()).toString();
  }

  /** Whether it occurs in the text. */
  boolean foundIn(String text) {
    Search search = new Search(text);
    for (int start = 0; start <= text.length(); start++) {
      if (search.matchAt(start) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** The search in one text; its stack (a frame per character of the secret) is reused. */
  private final class Search {
    private final String text;
    private final int[] at = new int[forms.length];
    private final int[] next = new int[forms.length];
    private Set<Long> failed = new HashSet<>();

    Search(String text) {
      this.text = text;
    }

    /**
     * Where a match that starts at {@code start} ends, or -1: a depth-first search over the
     * encodings of each character in order, as a backtracking regular expression runs them; a
     * (character, place) that failed once is not tried again.
     */
    int matchAt(int start) {
      if (forms.length == 0) {
        return start;
      }
      if (!failed.isEmpty()) {
        failed = new HashSet<>();
      }
      int depth = 0;
      at[0] = start;
      next[0] = 0;
      while (depth >= 0) {
        int i = at[depth];
        boolean advanced = false;
        while (next[depth] < forms[depth].length) {
          int end = matches(forms[depth][next[depth]++], text, i);
          if (end < 0) {
            continue;
          }
          if (depth + 1 == forms.length) {
            return end;
          }
          if (failed.contains(key(depth + 1, end))) {
            continue;
          }
          depth++;
          at[depth] = end;
          next[depth] = 0;
          advanced = true;
          break;
        }
        if (!advanced) {
          if (depth > 0) {
            failed.add(key(depth, i));
          }
          depth--;
        }
      }
      return -1;
    }
  }

  private static long key(int secretIndex, int textIndex) {
    return ((long) secretIndex << 32) | textIndex;
  }

  /** Where the encoding ends if it matches the text at {@code at}, else -1. */
  private static int matches(char[][] form, String text, int at) {
    if (at + form.length > text.length()) {
      return -1;
    }
    for (int k = 0; k < form.length; k++) {
      char c = text.charAt(at + k);
      char[] allowed = form[k];
      if (c != allowed[0] && (allowed.length == 1 || c != allowed[1])) {
        return -1;
      }
    }
    return at + form.length;
  }

  private static char[][] literal(String s) {
    char[][] form = new char[s.length()][];
    for (int i = 0; i < s.length(); i++) {
      form[i] = new char[] {s.charAt(i)};
    }
    return form;
  }

  private static char[] hex(int digit) {
    char upper = Character.toUpperCase(Character.forDigit(digit, 16));
    char lower = Character.toLowerCase(upper);
    return upper == lower ? new char[] {upper} : new char[] {upper, lower};
  }
}
