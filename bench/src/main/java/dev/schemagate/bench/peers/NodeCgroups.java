package dev.schemagate.bench.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * CPU and memory of the sandbox node's pods, from their cgroups (v1 or v2): a pod's cgroup (its
 * containers and its sandbox), and the node's {@code kubepods} cgroup, which keeps counting the CPU
 * of pods that are gone (a removed cgroup's usage stays charged to its parents).
 */
final class NodeCgroups {
  private static final Path ROOT = Path.of("/sys/fs/cgroup");

  private NodeCgroups() {}

  /** The cgroup (relative path, and the hierarchy it is in) of a process, for a controller. */
  record Cgroup(Path hierarchy, String path, boolean v2) {
    Path dir() {
      return hierarchy.resolve(path.substring(1));
    }

    /** CPU seconds its processes have used, those gone included. */
    double cpuSeconds() throws IOException {
      return NodeCgroups.cpuSeconds(this);
    }
  }

  private static Cgroup of(long pid, String controller) throws IOException {
    List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"));
    for (String line : lines) {
      String[] f = line.split(":", 3);
      if (List.of(f[1].split(",")).contains(controller)) {
        Path h = ROOT.resolve(f[1]);
        return new Cgroup(Files.isDirectory(h) ? h : ROOT.resolve(controller), f[2], false);
      }
    }
    for (String line : lines) {
      String[] f = line.split(":", 3);
      if (f[0].equals("0") && f[1].isEmpty()) {
        return new Cgroup(ROOT, f[2], true);
      }
    }
    throw new IllegalStateException("no " + controller + " cgroup for process " + pid);
  }

  /** The cgroup of the pod a container's process runs in (its container cgroup's parent). */
  private static Cgroup pod(long pid, String controller) throws IOException {
    Cgroup c = of(pid, controller);
    return new Cgroup(c.hierarchy, c.path.substring(0, c.path.lastIndexOf('/')), c.v2);
  }

  /**
   * The node's kubepods cgroup (CPU), found from a process of any of its containers: every pod the
   * node has run has used the CPU it counts.
   */
  static Cgroup kubepods(long anyContainerPid) throws IOException {
    return kubepods(anyContainerPid, "cpuacct");
  }

  private static Cgroup kubepods(long anyContainerPid, String controller) throws IOException {
    Cgroup c = of(anyContainerPid, controller);
    int at = c.path.indexOf("/kubepods");
    if (at < 0) {
      throw new IllegalStateException("process " + anyContainerPid + " is in no kubepods cgroup");
    }
    return new Cgroup(c.hierarchy, c.path.substring(0, at) + "/kubepods", c.v2);
  }

  /** CPU seconds the pod of a container's process has used. */
  static double podCpuSeconds(long pid) throws IOException {
    return cpuSeconds(pod(pid, "cpuacct"));
  }

  /** The anonymous memory (RSS) of the pod of a container's process, in MiB. */
  static double podRssMiB(long pid) throws IOException {
    Cgroup c = pod(pid, "memory");
    return stat(c.dir().resolve("memory.stat"), c.v2 ? "anon" : "total_rss") / 1048576.0;
  }

  private static double cpuSeconds(Cgroup c) throws IOException {
    if (c.v2) {
      return stat(c.dir().resolve("cpu.stat"), "usage_usec") / 1e6;
    }
    return Long.parseLong(Files.readString(c.dir().resolve("cpuacct.usage")).trim()) / 1e9;
  }

  private static long stat(Path file, String key) throws IOException {
    return Files.readAllLines(file).stream()
        .filter(l -> l.startsWith(key + " "))
        .mapToLong(l -> Long.parseLong(l.substring(key.length() + 1).trim()))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no " + key + " in " + file));
  }
}
