package dev.schemagate.operator.base;

import java.math.BigInteger;

/** Flyway versions: parts separated by '.' or '_', compared as numbers. */
public final class Versions {
  private Versions() {}

  /** Whether the revision is a Flyway version (digits, separated by '.' or '_'). */
  public static boolean isVersion(String revision) {
    return revision != null && revision.matches("\\d+([._]\\d+)*");
  }

  /**
   * Compares two Flyway versions. Returns 0 when either is not a version, so that nothing is
   * inferred from it.
   */
  public static int compare(String a, String b) {
    if (!isVersion(a) || !isVersion(b)) {
      return 0;
    }
    String[] left = a.split("[._]");
    String[] right = b.split("[._]");
    for (int i = 0; i < Math.max(left.length, right.length); i++) {
      BigInteger x = i < left.length ? new BigInteger(left[i]) : BigInteger.ZERO;
      BigInteger y = i < right.length ? new BigInteger(right[i]) : BigInteger.ZERO;
      int c = x.compareTo(y);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }
}
