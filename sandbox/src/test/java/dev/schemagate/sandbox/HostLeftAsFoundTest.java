package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.sandbox.cluster.Network;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The sandbox cluster leaves the host it runs on as it found it: run as {@code scripts/run --real}
 * runs it (the demo, through {@code scripts/sandbox-namespace}), from this JVM, which stays in the
 * host's namespaces (a surefire execution of its own), it adds no route, rule, address or firewall
 * rule to the host's network namespace and listens on none of its sockets, mounts nothing the host
 * sees, leaves no process and no cgroup after a normal end or Ctrl-C, and after a SIGKILL leaves no
 * process, its cgroup being removed by the next run.
 */
@Tag("host")
class HostLeftAsFoundTest {
  static final Path HOME =
      Path.of(System.getProperty("schemagate.home", "..")).toAbsolutePath().normalize();

  /** The places the node's programs keep things by default; the sandbox points them elsewhere. */
  static final List<String> DEFAULT_PATHS =
      List.of(
          "/var/lib/kubelet",
          "/var/log/pods",
          "/var/log/containers",
          "/var/lib/cni",
          "/var/lib/containerd",
          "/run/containerd",
          "/run/netns",
          "/var/run/netns",
          "/etc/cni/net.d",
          "/opt/cni/bin",
          "/etc/kubernetes");

  record HostState(
      List<String> routes,
      List<String> rules,
      List<String> addresses,
      List<String> firewall,
      List<String> mounts,
      Set<String> defaultPaths,
      Set<String> kernelSettings) {}

  static HostState read() throws Exception {
    Set<String> paths = new TreeSet<>();
    for (String p : DEFAULT_PATHS) {
      if (Files.exists(Path.of(p))) {
        paths.add(p);
      }
    }
    Set<String> kernel = new TreeSet<>();
    for (String s :
        List.of(
            "vm/overcommit_memory",
            "vm/panic_on_oom",
            "kernel/panic",
            "kernel/panic_on_oops",
            "kernel/keys/root_maxkeys",
            "kernel/keys/root_maxbytes",
            "net/ipv4/ip_forward",
            "net/bridge/bridge-nf-call-iptables")) {
      Path file = Path.of("/proc/sys", s);
      if (Files.exists(file)) {
        kernel.add(s + "=" + Files.readString(file).trim());
      }
    }
    return new HostState(
        run("ip", "route", "show", "table", "all"),
        run("ip", "rule"),
        run("ip", "-o", "address"),
        firewall(),
        mounts(),
        paths,
        kernel);
  }

  /**
   * The host's firewall rules, as iptables lists them (the node's programs write theirs through
   * iptables: kube-proxy's Service rules, the CNI plugins'), counters left out.
   */
  static List<String> firewall() throws Exception {
    List<String> rules = new ArrayList<>();
    for (String tool : List.of("iptables-save", "ip6tables-save")) {
      rules.addAll(
          run(tool).stream().filter(l -> !l.startsWith("#") && !l.startsWith(":")).toList());
    }
    return rules;
  }

  /** The mount points the host sees (mount IDs left out: a remount of the same thing is equal). */
  static List<String> mounts() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .map(l -> l.split(" "))
        .map(f -> f[4] + " " + f[f.length - 3])
        .sorted()
        .toList();
  }

  /** The node's cgroups (any sandbox's) on the host. */
  static List<String> sandboxCgroups() throws IOException {
    List<String> found = new ArrayList<>();
    Path root = Path.of("/sys/fs/cgroup");
    try (Stream<Path> hierarchies = Files.list(root)) {
      for (Path h : hierarchies.toList()) {
        if (!Files.isDirectory(h)) {
          continue;
        }
        try (Stream<Path> list = Files.list(h)) {
          list.filter(p -> p.getFileName().toString().startsWith("schemagate-sandbox-"))
              .forEach(p -> found.add(p.toString()));
        }
      }
    }
    return found;
  }

  /** Whether a route names the node's address, the pod range or the Service range. */
  static boolean namesASandboxNetwork(String route) {
    return Stream.of(Network.NODE_IP, Network.POD_RANGE, Network.SERVICE_RANGE)
        .map(a -> a.replaceFirst("\\.0/24$", "."))
        .anyMatch(route::contains);
  }

  static List<String> run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out.lines().toList();
  }

  /** The demo of {@code scripts/run --real}, started as that script starts it. */
  static Process demo(Path log, boolean once) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "setsid",
                HOME.resolve("scripts/sandbox-namespace").toString(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "-Dschemagate.home=" + HOME,
                Demo.class.getName(),
                "--real"));
    if (once) {
      command.add("--once");
    }
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /** Waits until the log says the demo is done and keeps running. */
  static void awaitRunning(Process demo, Path log) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(8));
    while (!Files.readString(log).contains("The sandbox keeps running")) {
      assertThat(demo.isAlive())
          .as("the demo runs; its output:\n" + Files.readString(log))
          .isTrue();
      assertThat(Instant.now()).as(Files.readString(log)).isBefore(deadline);
      Thread.sleep(500);
    }
  }

  /**
   * Every process of the sandbox, the host's view of them: what the demo's process started, and
   * what started there reparented to the sandbox's namespace init.
   */
  static List<ProcessHandle> processes(Process demo) {
    return demo.descendants().collect(Collectors.toList());
  }

  /** The host's listening sockets that belong to one of these processes. */
  static List<String> listeningOf(List<ProcessHandle> processes) throws Exception {
    Set<String> pids =
        processes.stream().map(p -> "pid=" + p.pid() + ",").collect(Collectors.toSet());
    return run("ss", "-Hlntup").stream().filter(l -> pids.stream().anyMatch(l::contains)).toList();
  }

  @Test
  void aRunToItsEndAndAnotherStoppedWithCtrlCLeaveTheHostAsFound() throws Exception {
    HostState before = read();
    List<String> cgroupsBefore = sandboxCgroups();
    Path logs = Files.createDirectories(HOME.resolve("sandbox/target/host-check"));

    Process once = demo(logs.resolve("once.log"), true);
    assertThat(once.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(once.exitValue()).as(Files.readString(logs.resolve("once.log"))).isZero();
    assertThat(Files.readString(logs.resolve("once.log"))).contains("Done: every step passed.");
    assertThat(read()).isEqualTo(before);
    assertThat(sandboxCgroups()).isEqualTo(cgroupsBefore);
    assertThat(before.routes())
        .as(
            "the host's routes (every table): none names the sandbox's networks, which live in its"
                + " own namespace only (one left by an older sandbox goes with `ip route del`)")
        .noneMatch(HostLeftAsFoundTest::namesASandboxNetwork);

    Process interrupted = demo(logs.resolve("interrupted.log"), false);
    awaitRunning(interrupted, logs.resolve("interrupted.log"));
    List<ProcessHandle> sandbox = processes(interrupted);
    assertThat(sandbox).as("the sandbox's processes").hasSizeGreaterThan(10);
    assertThat(listeningOf(sandbox))
        .as("sockets the sandbox listens on in the host's network")
        .isEmpty();
    // Ctrl-C: SIGINT to the terminal's foreground process group
    run("kill", "-INT", "--", "-" + interrupted.pid());
    assertThat(interrupted.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(
            sandbox.stream()
                .filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse("?")))
        .as("processes left after Ctrl-C")
        .isEmpty();
    assertThat(read()).isEqualTo(before);
    assertThat(sandboxCgroups()).isEqualTo(cgroupsBefore);
  }

  @Test
  void aKilledRunLeavesNoProcessAndTheNextRunRemovesWhatItLeft() throws Exception {
    HostState before = read();
    List<String> cgroupsBefore = sandboxCgroups();
    Path logs = Files.createDirectories(HOME.resolve("sandbox/target/host-check"));

    Process killed = demo(logs.resolve("killed.log"), false);
    awaitRunning(killed, logs.resolve("killed.log"));
    List<ProcessHandle> sandbox = processes(killed);
    // SIGKILL to the command the terminal started (scripts/sandbox-namespace, now unshare)
    run("kill", "-KILL", Long.toString(killed.pid()));
    Instant deadline = Instant.now().plusSeconds(30);
    while (sandbox.stream().anyMatch(ProcessHandle::isAlive) && Instant.now().isBefore(deadline)) {
      Thread.sleep(200);
    }
    assertThat(
            sandbox.stream()
                .filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse("?")))
        .as("processes left after SIGKILL")
        .isEmpty();
    assertThat(read()).isEqualTo(before);

    // the next run removes the cgroup the killed one left, and leaves none itself
    Process next = demo(logs.resolve("next.log"), true);
    assertThat(next.waitFor(10, TimeUnit.MINUTES)).isTrue();
    assertThat(next.exitValue()).as(Files.readString(logs.resolve("next.log"))).isZero();
    assertThat(sandboxCgroups()).isEqualTo(cgroupsBefore);
    assertThat(read()).isEqualTo(before);
  }
}
