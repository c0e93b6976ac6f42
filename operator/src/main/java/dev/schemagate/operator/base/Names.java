package dev.schemagate.operator.base;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** Deterministic names for child resources, and name validation. */
public final class Names {
  public static final int MAX_JOB_NAME = 63;
  static final int ID_LENGTH = 10;
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  private Names() {}

  /** A short, stable hash of the parts, usable in names and label values. */
  public static String hash(String... parts) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (String part : parts) {
        digest.update(String.valueOf(part).getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
      }
      return HexFormat.of().formatHex(digest.digest()).substring(0, ID_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code <migration name, shortened>-<run id>}, at most 63 characters, a valid Job name. */
  public static String jobName(String migrationName, String runId) {
    return prefix(migrationName, MAX_JOB_NAME - runId.length() - 1) + "-" + runId;
  }

  /** The name cut to at most {@code max} characters, never ending in '-' or '.'. */
  public static String prefix(String name, int max) {
    String cut = name.length() <= max ? name : name.substring(0, max);
    int end = cut.length();
    while (end > 0 && (cut.charAt(end - 1) == '-' || cut.charAt(end - 1) == '.')) {
      end--;
    }
    return end == 0 ? "dbm" : cut.substring(0, end);
  }

  /** Whether the name is a valid Kubernetes object name (DNS-1123 subdomain). */
  public static boolean isValidObjectName(String name) {
    return name != null && name.length() <= 253 && DNS_SUBDOMAIN.matcher(name).matches();
  }
}
