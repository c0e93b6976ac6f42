package dev.schemagate.operator.base;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations written as Kubernetes writes them (10m, 1h30m, 45s). */
public final class Intervals {
  private static final Pattern WHOLE = Pattern.compile("^([0-9]+(s|m|h))+$");
  private static final Pattern PART = Pattern.compile("([0-9]+)(s|m|h)");

  private Intervals() {}

  /** The duration, or null when the text is not one (or is none). */
  public static Duration parse(String text) {
    if (text == null || !WHOLE.matcher(text).matches()) {
      return null;
    }
    Duration total = Duration.ZERO;
    Matcher part = PART.matcher(text);
    try {
      while (part.find()) {
        long n = Long.parseLong(part.group(1));
        total =
            total.plus(
                switch (part.group(2)) {
                  case "h" -> Duration.ofHours(n);
                  case "m" -> Duration.ofMinutes(n);
                  default -> Duration.ofSeconds(n);
                });
      }
    } catch (ArithmeticException | NumberFormatException tooLong) {
      return null;
    }
    return total;
  }
}
