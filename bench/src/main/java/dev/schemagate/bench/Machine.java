package dev.schemagate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The machine a figure was measured on, and a process's CPU time and memory from /proc. */
public final class Machine {
  /** A generation's addresses in GC.heap_info: the first and the last of {@code [0x..., 0x...)}. */
  private static final Pattern GENERATION_RANGE =
      Pattern.compile("\\[(0x[0-9a-f]+)[^\\]]*?(0x[0-9a-f]+)\\)");

  /** The first line of a mapping in /proc/PID/smaps: its start and end address. */
  private static final Pattern MAPPING = Pattern.compile("^([0-9a-f]+)-([0-9a-f]+) ");

  private Machine() {}

  public static String describe() {
    return "Machine: "
        + Runtime.getRuntime().availableProcessors()
        + " cores, "
        + memTotalMiB() / 1024
        + " GiB, Java "
        + System.getProperty("java.version")
        + " ("
        + System.getProperty("java.vm.name")
        + ")";
  }

  static long memTotalMiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException ignored) {
      // not Linux
    }
    return 0;
  }

  /** The load averages of the last 1, 5 and 15 minutes (the machine is shared). */
  public static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + ", " + f[1] + ", " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  /**
   * The heap a JVM holds after a full GC, in MiB: the total of {@code jcmd GC.class_histogram},
   * which collects first and counts the objects still reachable, less the GC's filler objects.
   * (Until 2026-11-26 this was the generations' "used" of GC.heap_info after GC.run, which also
   * counts what the process allocated between the two commands: on a JVM at rest the two agree;
   * right after a burst they did not, bench/README.md, issue 15, third round.) The histogram is
   * written to {@code keep}.
   */
  static double heapAfterFullGcMiB(long pid, Path keep) throws IOException, InterruptedException {
    String histogram = jcmd(pid, "GC.class_histogram");
    // what the heap holds, kept beside the figures
    Files.writeString(keep, histogram);
    return liveBytes(histogram) / 1048576.0;
  }

  /**
   * The bytes of a class histogram's objects, without the fillers: Serial GC's full collection
   * leaves dead space of up to 5% of a generation in place (MarkSweepDeadRatio) instead of
   * compacting it, filled with filler objects, which the histogram counts as if they were live:
   * {@code jdk.internal.vm.FillerElement[]} from Java 19, {@code int[]} before it: in a heap dump
   * of the operator on Java 17 nearly all of its {@code int[]} was referenced by no object, no
   * static field and no GC root (bench/README.md, issue 15, fourth round). On Java 17 and 18 every
   * {@code int[]} is left out.
   */
  static long liveBytes(String histogram) {
    Matcher total = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$").matcher(histogram);
    if (!total.find()) {
      throw new IllegalStateException("no total in GC.class_histogram:\n" + histogram);
    }
    boolean intArrayFillers =
        histogram.contains("(java.base@17") || histogram.contains("(java.base@18");
    Matcher row = Pattern.compile("(?m)^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)").matcher(histogram);
    long fillers = 0;
    while (row.find()) {
      String type = row.group(2);
      if (type.contains("jdk.internal.vm.Filler") || (intArrayFillers && type.equals("[I"))) {
        fillers += Long.parseLong(row.group(1));
      }
    }
    return Long.parseLong(total.group(1)) - fillers;
  }

  static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p =
        new ProcessBuilder(jcmd.toString(), Long.toString(pid), command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }

  /** User + system CPU seconds of each thread of a process, by "name (tid)". */
  static Map<String, Double> threadCpuSeconds(long pid) throws IOException {
    Map<String, Double> out = new HashMap<>();
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          out.put(
              name + " (" + task.getFileName() + ")",
              (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0);
        } catch (IOException gone) {
          // the thread ended
        }
      }
    }
    return out;
  }

  /** The threads that used the most CPU between two samples, with their seconds. */
  static String busiest(Map<String, Double> before, Map<String, Double> after, int n) {
    return after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
        .filter(e -> e.getValue() > 0)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .limit(n)
        .map(e -> String.format("%s %.2f", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
  }

  /**
   * The part of a JVM's RSS in its Java heap, in MiB: the resident pages of the mappings within the
   * address range {@code jcmd GC.heap_info} gives its generations (Serial, Parallel and G1 print
   * them as {@code [0x..., 0x...)}). RSS counts a committed page of the heap only once it has been
   * touched: a heap that has just grown is committed but not yet resident. {@code smaps}: the
   * process's /proc/PID/smaps, or a copy of it.
   */
  static double heapRssMiB(long pid, Path smaps) throws IOException, InterruptedException {
    Matcher m = GENERATION_RANGE.matcher(jcmd(pid, "GC.heap_info"));
    long lo = Long.MAX_VALUE;
    long hi = 0;
    while (m.find()) {
      lo = Math.min(lo, Long.decode(m.group(1)));
      hi = Math.max(hi, Long.decode(m.group(2)));
    }
    if (hi == 0) {
      throw new IllegalStateException("no address range in GC.heap_info of " + pid);
    }
    long kib = 0;
    boolean inHeap = false;
    for (String line : Files.readAllLines(smaps)) {
      Matcher range = MAPPING.matcher(line);
      if (range.find()) {
        inHeap =
            Long.parseUnsignedLong(range.group(1), 16) >= lo
                && Long.parseUnsignedLong(range.group(2), 16) <= hi;
      } else if (inHeap && line.startsWith("Rss:")) {
        kib += Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return kib / 1024.0;
  }

  /** User + system CPU seconds of a process. */
  static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
    return ticks / 100.0;
  }

  /** A field of /proc/PID/status in MiB (VmRSS, VmHWM). */
  static double statusMiB(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    return Double.NaN;
  }
}
