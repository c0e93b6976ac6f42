package dev.schemagate.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * 10. The redaction (in the benchmark's process): each rule of {@code rules.txt} on the hard inputs
 * of {@code redact/src/test/resources/hard-inputs.tsv} at 1, 4 and 16 KB. For each rule, every
 * input is timed at 1 KB, the three slowest at 4 KB, and the slowest of those at 1, 4 and 16 KB is
 * the rule's row; then the whole redaction (every rule in order) on the slowest input of all, and,
 * where the build has one, a repeated message answered by the memo. Each figure is the CPU time of
 * the benchmark's thread (the machine is shared: wall time counts the other processes' turns), the
 * shortest of repeated runs (up to 20, within about 200 ms), after a warm-up pass; a run is stopped
 * after {@code bench.redaction.cap} seconds (default 120), the text read through a CharSequence
 * that checks the clock, the same for every build. {@code -Dbench.baseline.redact=DIR} times
 * another build's redaction instead: a directory (or jar) holding its {@code dev/schemagate/redact}
 * classes and {@code rules.txt}.
 */
final class RedactionBench {
  private static final String REDACTOR = "dev.schemagate.redact.Redactor";
  private static final int[] SIZES = {1024, 4096, 16384};
  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private final Path home;
  private final Path results;
  private final long capNanos;

  RedactionBench(Path home, Path results) {
    this.home = home;
    this.results = results;
    this.capNanos = Long.getLong("bench.redaction.cap", 120) * 1_000_000_000L;
  }

  record Shape(String name, String prefix, String unit, String suffix) {
    String of(int size) {
      StringBuilder text = new StringBuilder(size).append(prefix);
      while (text.length() < size - suffix.length()) {
        text.append(unit);
      }
      text.setLength(Math.max(prefix.length(), size - suffix.length()));
      return text.append(suffix).toString();
    }
  }

  /** A time in nanoseconds, or -1 when stopped at the cap, or -2 for a StackOverflowError. */
  private static String show(long nanos, long cap) {
    if (nanos == -1) {
      return "> " + cap / 1_000_000_000L + " s (stopped)";
    }
    if (nanos == -2) {
      return "StackOverflowError";
    }
    double ms = nanos / 1e6;
    return ms >= 1000 ? String.format("%.1f s", ms / 1000) : String.format("%.3f ms", ms);
  }

  void run() throws Exception {
    String baseline = System.getProperty("bench.baseline.redact");
    ClassLoader loader =
        baseline == null
            ? RedactionBench.class.getClassLoader()
            : new URLClassLoader(
                new URL[] {Path.of(baseline).toUri().toURL()},
                ClassLoader.getPlatformClassLoader());
    Class<?> redactor = Class.forName(REDACTOR, true, loader);
    var field = redactor.getDeclaredField("RULES");
    field.setAccessible(true);
    @SuppressWarnings("unchecked")
    List<Pattern> rules = (List<Pattern>) field.get(null);
    List<String> names = names(redactor);
    List<Shape> shapes = shapes(home.resolve("redact/src/test/resources/hard-inputs.tsv"));
    Method whole = method(redactor, "redactOnce").orElseGet(() -> method(redactor, "redact").get());

    // warm-up: every rule on every input at 1 KB
    for (Pattern rule : rules) {
      for (Shape s : shapes) {
        time(rule, s.of(1024), 1);
      }
    }
    StringBuilder out = new StringBuilder("### Redaction: each rule on its slowest hard input\n\n");
    out.append(Machine.describe()).append("; load average ").append(Machine.loadAverage());
    out.append("\n\nBuild: ").append(baseline == null ? "this one" : "baseline " + baseline);
    out.append("; ").append(rules.size()).append(" rules, ").append(shapes.size());
    out.append(" hard inputs; a run is stopped at ").append(capNanos / 1_000_000_000L);
    out.append(" s.\n\n| rule | slowest input | 1 KB | 4 KB | 16 KB | 16 KB / 4 KB |\n");
    out.append("| --- | --- | --- | --- | --- | --- |\n");
    for (int r = 0; r < rules.size(); r++) {
      Pattern rule = rules.get(r);
      List<long[]> at1 = new ArrayList<>();
      for (int s = 0; s < shapes.size(); s++) {
        at1.add(new long[] {s, time(rule, shapes.get(s).of(1024), 20)});
      }
      at1.sort(Comparator.comparingLong((long[] a) -> rank(a[1])).reversed());
      Shape worst = null;
      long worst4 = -3;
      for (long[] candidate : at1.subList(0, Math.min(3, at1.size()))) {
        Shape s = shapes.get((int) candidate[0]);
        long t4 = candidate[1] < 0 ? candidate[1] : time(rule, s.of(4096), 20);
        if (worst == null || rank(t4) > rank(worst4)) {
          worst = s;
          worst4 = t4;
        }
      }
      long t1 = time(rule, worst.of(1024), 20);
      long t16 = worst4 < 0 ? worst4 : time(rule, worst.of(16384), 20);
      out.append(
          String.format(
              "| %d. %s | %s | %s | %s | %s | %s |%n",
              r,
              names.get(r).replace("|", "\\|"),
              worst.name(),
              show(t1, capNanos),
              show(worst4, capNanos),
              show(t16, capNanos),
              worst4 > 0 && t16 > 0 ? String.format("%.1f", (double) t16 / worst4) : "-"));
    }
    // the whole redaction: every input at 1 KB, the three slowest at 4 KB, the slowest of those
    List<long[]> whole1 = new ArrayList<>();
    for (int s = 0; s < shapes.size(); s++) {
      whole1.add(new long[] {s, timeWhole(whole, shapes.get(s).of(1024))});
    }
    whole1.sort(Comparator.comparingLong((long[] a) -> rank(a[1])).reversed());
    Shape slowest = null;
    long slowest4 = 0;
    for (long[] candidate : whole1.subList(0, Math.min(3, whole1.size()))) {
      Shape s = shapes.get((int) candidate[0]);
      // four times the input: run it only if a quadratic rise (16 times) would stay under the cap
      long t4 =
          candidate[1] < 0 || candidate[1] * 16 > capNanos ? -1 : timeWhole(whole, s.of(4096));
      if (slowest == null || rank(t4) > rank(slowest4)) {
        slowest = s;
        slowest4 = t4;
      }
    }
    long whole1k = timeWhole(whole, slowest.of(1024));
    long whole16 =
        slowest4 < 0 || slowest4 * 16 > capNanos ? -1 : timeWhole(whole, slowest.of(16384));
    out.append(
        String.format(
            "| all, in order (Redactor.%s) | %s | %s | %s | %s | %s |%n",
            whole.getName(),
            slowest.name(),
            show(whole1k, capNanos),
            show(slowest4, capNanos),
            show(whole16, capNanos),
            slowest4 > 0 && whole16 > 0
                ? String.format("%.1f", (double) whole16 / slowest4)
                : "-"));
    out.append(
        "\n(For the whole redaction, \"> cap\" means not run: a quadratic rise from the size"
            + " before would pass the cap.)\n");
    if (method(redactor, "redactOnce").isPresent()) {
      Method memo = method(redactor, "redact").get();
      out.append("\nA message the memo has seen (Redactor.redact, the same characters again): ");
      for (int size : SIZES) {
        String head = "run failed: postgresql://app:secret@db/orders ";
        String message = head + "x".repeat(size - head.length());
        memo.invoke(null, message);
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
          String[] again = new String[1000];
          for (int i = 0; i < again.length; i++) {
            again[i] = new String(message.toCharArray());
          }
          long start = CPU.getCurrentThreadCpuTime();
          for (String a : again) {
            memo.invoke(null, a);
          }
          best = Math.min(best, (CPU.getCurrentThreadCpuTime() - start) / again.length);
        }
        out.append(size / 1024).append(" KB ").append(show(best, capNanos)).append("; ");
        out.append("without it ")
            .append(show(timeWhole(whole, message), capNanos))
            .append(size == SIZES[SIZES.length - 1] ? ".\n" : "; ");
      }
    }
    String text = out.toString();
    System.out.println(text);
    Files.createDirectories(results);
    Files.writeString(
        results.resolve(baseline == null ? "redaction.md" : "redaction-baseline.md"), text);
  }

  /** Slower first; a stopped run and a stack overflow rank above every time. */
  private static long rank(long nanos) {
    return nanos < 0 ? Long.MAX_VALUE + nanos : nanos;
  }

  /** The shortest of up to {@code runs} runs of the rule on the text (within about 200 ms). */
  private long time(Pattern rule, String text, int runs) {
    long best = Long.MAX_VALUE;
    long spent = 0;
    for (int i = 0; i < runs && (i == 0 || spent < 200_000_000L); i++) {
      Deadline deadline = new Deadline(text, System.nanoTime() + capNanos);
      long start = CPU.getCurrentThreadCpuTime();
      try {
        mask(rule, deadline);
      } catch (Deadline.Passed e) {
        return -1;
      } catch (StackOverflowError e) {
        return -2;
      }
      long took = CPU.getCurrentThreadCpuTime() - start;
      spent += took;
      best = Math.min(best, took);
    }
    return best;
  }

  private static long timeWhole(Method whole, String text) throws Exception {
    long best = Long.MAX_VALUE;
    long spent = 0;
    for (int i = 0; i < 20 && (i == 0 || spent < 200_000_000L); i++) {
      long start = CPU.getCurrentThreadCpuTime();
      try {
        whole.invoke(null, text);
      } catch (java.lang.reflect.InvocationTargetException e) {
        if (e.getCause() instanceof StackOverflowError) {
          return -2;
        }
        throw e;
      }
      long took = CPU.getCurrentThreadCpuTime() - start;
      spent += took;
      best = Math.min(best, took);
    }
    return best;
  }

  /** What Redactor does with one rule: the group masked wherever the rule matches. */
  private static String mask(Pattern rule, CharSequence text) {
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
      out.append(text, last, m.start(1)).append("*****");
      last = m.end(1);
    }
    return out == null ? text.toString() : out.append(text, last, text.length()).toString();
  }

  private static java.util.Optional<Method> method(Class<?> c, String name) {
    try {
      return java.util.Optional.of(c.getMethod(name, String.class));
    } catch (NoSuchMethodException e) {
      return java.util.Optional.empty();
    }
  }

  /** The first comment line above each rule of the build's rules.txt. */
  private static List<String> names(Class<?> redactor) throws IOException {
    List<String> names = new ArrayList<>();
    try (InputStream in = redactor.getResourceAsStream("rules.txt")) {
      String comment = null;
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.equals("#") || line.isBlank()) {
          comment = null;
        } else if (line.startsWith("#")) {
          comment = comment == null ? line.substring(1).strip() : comment;
        } else {
          String name = comment == null ? "unnamed" : comment;
          names.add(name.length() > 60 ? name.substring(0, 57) + "..." : name);
          comment = null;
        }
      }
    }
    return names;
  }

  static List<Shape> shapes(Path file) throws IOException {
    List<Shape> shapes = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      shapes.add(new Shape(f[0], unescape(f[1]), unescape(f[2]), unescape(f[3])));
    }
    return shapes;
  }

  private static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        out.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n == 't' ? '\t' : n);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }

  /** The text, read until a moment: past it, the reader is stopped. */
  private static final class Deadline implements CharSequence {
    private final String text;
    private final long until;
    private int reads;

    Deadline(String text, long until) {
      this.text = text;
      this.until = until;
    }

    static final class Passed extends RuntimeException {
      Passed() {
        super(null, null, false, false);
      }
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public char charAt(int index) {
      if ((++reads & 0xFFFF) == 0 && System.nanoTime() > until) {
        throw new Passed();
      }
      return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.subSequence(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
