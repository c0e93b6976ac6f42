package dev.schemagate.redact;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Recent results of a pure function of text, bounded: at most {@code maxEntries} results, least
 * recently used out first, and at most {@code maxChars} characters of results kept (a result longer
 * than a 64th of that is not kept).
 *
 * <p>It keeps no input: an entry's key is the SHA-256 of the input's characters (a collision would
 * be needed to get another text's result, and none is known), and a result equal to its input (the
 * common case: text already redacted) is kept as a mark, not a copy. A hit costs the digest of the
 * input and a lookup.
 */
final class Memo {
  /** The mark of a result equal to its input. */
  private static final String SAME = new String(new char[0]);

  private final int maxEntries;
  private final long maxChars;
  private final LinkedHashMap<Key, String> entries = new LinkedHashMap<>(64, 0.75f, true);
  private long chars;
  private long hits;
  private long misses;

  Memo(int maxEntries, long maxChars) {
    this.maxEntries = maxEntries;
    this.maxChars = maxChars;
  }

  /** The result for the input: remembered, or computed and remembered. */
  String get(String input, UnaryOperator<String> compute) {
    Key key = Key.of(input);
    synchronized (this) {
      String known = entries.get(key);
      if (known != null) {
        hits++;
        return known == SAME ? input : known;
      }
      misses++;
    }
    String result = compute.apply(input);
    String kept = result.equals(input) ? SAME : result;
    if (kept.length() > maxChars / 64) {
      return result;
    }
    synchronized (this) {
      String before = entries.put(key, kept);
      if (before != null) {
        chars -= before.length();
      }
      chars += kept.length();
      Iterator<Map.Entry<Key, String>> eldest = entries.entrySet().iterator();
      while ((entries.size() > maxEntries || chars > maxChars) && eldest.hasNext()) {
        chars -= eldest.next().getValue().length();
        eldest.remove();
      }
    }
    return result;
  }

  synchronized int size() {
    return entries.size();
  }

  synchronized long chars() {
    return chars;
  }

  synchronized long hits() {
    return hits;
  }

  synchronized long misses() {
    return misses;
  }

  synchronized void clear() {
    entries.clear();
    chars = 0;
    hits = 0;
    misses = 0;
  }

  /** A SHA-256 digest of a text's UTF-16 characters (every string, lone surrogates too). */
  private record Key(long a, long b, long c, long d) {
    static Key of(String text) {
      MessageDigest sha;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java has SHA-256", e);
      }
      byte[] buffer = new byte[Math.min(2 * text.length(), 8192)];
      for (int i = 0; i < text.length(); ) {
        int n = 0;
        for (; n < buffer.length && i < text.length(); i++) {
          char ch = text.charAt(i);
          buffer[n++] = (byte) (ch >>> 8);
          buffer[n++] = (byte) ch;
        }
        sha.update(buffer, 0, n);
      }
      byte[] d = sha.digest();
      return new Key(word(d, 0), word(d, 8), word(d, 16), word(d, 24));
    }

    private static long word(byte[] d, int at) {
      long w = 0;
      for (int i = at; i < at + 8; i++) {
        w = (w << 8) | (d[i] & 0xFF);
      }
      return w;
    }
  }
}
