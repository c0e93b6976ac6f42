package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code scripts/sandbox-namespace} itself, from the host's namespaces: the command runs with the
 * node's address on a loopback of its own, its status comes back, and nothing it started outlives
 * it: after a normal end, after SIGKILL to the script, and (without a PID namespace, the way taken
 * where the kernel refuses one) after SIGKILL to the script and its watcher, once the next run
 * started. Each case both ways: with a PID namespace and without.
 */
@Tag("host")
class SandboxNamespaceTest {
  static final Path SCRIPT = HostLeftAsFoundTest.HOME.resolve("scripts/sandbox-namespace");

  /** A number no other process here sleeps for: the processes a case started are found by it. */
  static final AtomicLong MARK = new AtomicLong(7_000_000 + ProcessHandle.current().pid() * 100);

  static Process start(String pidNamespace, String command, Path log) throws IOException {
    ProcessBuilder pb =
        new ProcessBuilder("setsid", SCRIPT.toString(), "sh", "-c", command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.remove("SCHEMAGATE_SANDBOX_NAMESPACE");
    env.put("SCHEMAGATE_SANDBOX_PID_NAMESPACE", pidNamespace);
    return pb.start();
  }

  /** The host's processes sleeping for {@code mark} seconds. */
  static List<ProcessHandle> sleeping(long mark) {
    String arg = Long.toString(mark);
    return ProcessHandle.allProcesses()
        .filter(
            p ->
                p.info().arguments().map(a -> a.length == 1 && a[0].equals(arg)).orElse(false)
                    && p.info().command().map(c -> c.endsWith("sleep")).orElse(false))
        .toList();
  }

  static void await(String what, Duration timeout, BooleanSupplier done) throws Exception {
    Instant deadline = Instant.now().plus(timeout);
    while (!done.getAsBoolean()) {
      assertThat(Instant.now()).as(what).isBefore(deadline);
      Thread.sleep(100);
    }
  }

  /** The cgroups (every hierarchy) of a run without a PID namespace whose script is {@code pid}. */
  static List<Path> runCgroups(long pid) throws IOException {
    List<Path> found = new ArrayList<>();
    try (var hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path h : hierarchies.toList()) {
        Path cg = h.resolve("schemagate-sandbox-run-" + pid);
        if (Files.isDirectory(cg)) {
          found.add(cg);
        }
      }
    }
    return found;
  }

  static Path log(String name) throws IOException {
    return Files.createDirectories(HostLeftAsFoundTest.HOME.resolve("sandbox/target/host-check"))
        .resolve(name);
  }

  @ParameterizedTest(name = "PID namespace: {0}")
  @ValueSource(strings = {"yes", "no"})
  void theCommandRunsOnTheSandboxNetworkAndWhatItStartedEndsWithIt(String pidNamespace)
      throws Exception {
    HostLeftAsFoundTest.HostState before = HostLeftAsFoundTest.read();
    long mark = MARK.incrementAndGet();
    Path log = log("namespace-" + pidNamespace + "-normal.log");
    // a daemon of its own session (as containerd's shims are), then the command's own answer
    Process run =
        start(
            pidNamespace,
            "setsid sleep " + mark + " & ip -o address show dev lo; sleep 1; exit 3",
            log);
    assertThat(run.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(run.exitValue()).as(Files.readString(log)).isEqualTo(3);
    assertThat(Files.readString(log)).contains("inet 10.250.0.1/32");
    await(
        "the daemon the command started ends with it",
        Duration.ofSeconds(10),
        () -> sleeping(mark).isEmpty());
    assertThat(runCgroups(run.pid())).isEmpty();
    assertThat(HostLeftAsFoundTest.read()).isEqualTo(before);
  }

  @ParameterizedTest(name = "PID namespace: {0}")
  @ValueSource(strings = {"yes", "no"})
  void aKilledScriptLeavesNoProcess(String pidNamespace) throws Exception {
    long mark = MARK.incrementAndGet();
    Path log = log("namespace-" + pidNamespace + "-killed.log");
    Process run = start(pidNamespace, "setsid sleep " + mark + " & sleep " + mark, log);
    await("both sleep", Duration.ofSeconds(30), () -> sleeping(mark).size() == 2);
    HostLeftAsFoundTest.run("kill", "-KILL", Long.toString(run.pid()));
    await(
        "no process left after SIGKILL to the script (" + Files.readString(log) + ")",
        Duration.ofSeconds(10),
        () -> sleeping(mark).isEmpty());
    await(
        "its cgroup removed",
        Duration.ofSeconds(10),
        () -> {
          try {
            return runCgroups(run.pid()).isEmpty();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  @org.junit.jupiter.api.Test
  void withoutAPidNamespaceTheNextRunStopsWhatAKilledRunAndItsWatcherLeft() throws Exception {
    long mark = MARK.incrementAndGet();
    Process run = start("no", "setsid sleep " + mark + " & sleep " + mark, log("stale.log"));
    await("both sleep", Duration.ofSeconds(30), () -> sleeping(mark).size() == 2);
    // the script and its watcher: every process of the run's cgroup but the sleeping ones
    List<String> killed = new ArrayList<>();
    for (Path cgroup : runCgroups(run.pid())) {
      Path procs = cgroup.resolve("main/cgroup.procs");
      if (cgroup.toString().contains("/pids/") && Files.exists(procs)) {
        for (String pid : Files.readAllLines(procs)) {
          if (sleeping(mark).stream().noneMatch(p -> Long.toString(p.pid()).equals(pid))) {
            killed.add(pid);
          }
        }
      }
    }
    assertThat(killed).as("the script and its watcher").contains(Long.toString(run.pid()));
    // (the watcher's own short sleeps come and go: one may be gone already)
    killed.forEach(
        pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
    assertThat(run.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(1000);
    assertThat(sleeping(mark)).as("what the killed run left, until the next run").hasSize(2);

    Path next = log("stale-next.log");
    Process again = start("no", "true", next);
    assertThat(again.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(again.exitValue()).as(Files.readString(next)).isZero();
    assertThat(Files.readString(next)).contains("stopping what a killed sandbox run left");
    assertThat(sleeping(mark)).as("left after the next run").isEmpty();
    assertThat(runCgroups(run.pid())).isEmpty();
  }

  @ParameterizedTest(name = "PID namespace: {0}")
  @ValueSource(strings = {"yes", "no"})
  void aCallFromInsideRunsInTheSameSandboxInsteadOfNestingOne(String pidNamespace)
      throws Exception {
    Path log = log("namespace-" + pidNamespace + "-nested.log");
    Process run =
        start(
            pidNamespace,
            "readlink /proc/self/ns/net; " + SCRIPT + " sh -c 'readlink /proc/self/ns/net'",
            log);
    assertThat(run.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(run.exitValue()).as(Files.readString(log)).isZero();
    List<String> namespaces =
        Files.readAllLines(log).stream().filter(l -> l.startsWith("net:")).toList();
    assertThat(namespaces).hasSize(2);
    assertThat(namespaces.get(1)).as("the inner call's network").isEqualTo(namespaces.get(0));
  }

  @org.junit.jupiter.api.Test
  void theTestsJvmWrapperStartsAJvmWhenJavaHomeIsItsOwnFolder() throws Exception {
    // surefire sets JAVA_HOME of the JVM it forks two folders above the path it is given
    Path wrapper = HostLeftAsFoundTest.HOME.resolve("scripts/sandbox/bin/java");
    Path log = log("wrapper.log");
    ProcessBuilder pb =
        new ProcessBuilder(wrapper.toString(), "-version")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("JAVA_HOME", wrapper.getParent().getParent().toString());
    pb.environment().remove("SCHEMAGATE_JAVA");
    Process java = pb.start();
    assertThat(java.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(java.exitValue()).as(Files.readString(log)).isZero();
    assertThat(Files.readString(log)).contains("Runtime Environment");
  }

  @ParameterizedTest(name = "PID namespace: {0}")
  @ValueSource(strings = {"yes", "no"})
  void theCommandReadsTheScriptsStandardInput(String pidNamespace) throws Exception {
    // surefire talks to the JVM it forks through its standard input
    Path log = log("namespace-" + pidNamespace + "-stdin.log");
    Process run = start(pidNamespace, "read line && echo \"read: $line\"", log);
    run.getOutputStream().write("a command from Maven\n".getBytes(StandardCharsets.UTF_8));
    run.getOutputStream().flush();
    assertThat(run.waitFor(1, TimeUnit.MINUTES)).isTrue();
    assertThat(run.exitValue()).as(Files.readString(log)).isZero();
    assertThat(Files.readString(log)).contains("read: a command from Maven");
  }

  @ParameterizedTest(name = "PID namespace: {0}")
  @ValueSource(strings = {"yes", "no"})
  void aCloneUnderTmpStaysVisibleAtItsPathOverTheFreshTmp(String pidNamespace) throws Exception {
    // a clone made with mktemp -d, as CI or a reviewer makes one: the fresh /tmp must not hide it
    Path clone = Files.createTempDirectory(Path.of("/tmp"), "sandbox-clone-");
    try {
      Path scripts = Files.createDirectories(clone.resolve("scripts"));
      Path script = Files.copy(SCRIPT, scripts.resolve("sandbox-namespace"));
      script.toFile().setExecutable(true);
      Path work = Files.createDirectories(clone.resolve("sandbox/target"));
      Files.writeString(clone.resolve("sandbox/target/booter.jar"), "the booter\n");
      Files.writeString(Path.of("/tmp", clone.getFileName() + "-beside"), "the host's /tmp\n");
      Path log = log("namespace-" + pidNamespace + "-clone-under-tmp.log");
      ProcessBuilder pb =
          new ProcessBuilder(
                  "setsid",
                  script.toString(),
                  "sh",
                  "-c",
                  "cat "
                      + work.resolve("booter.jar")
                      + " && echo written >"
                      + work.resolve("report.txt")
                      + " && ls /tmp")
              .directory(work.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile());
      pb.environment().remove("SCHEMAGATE_SANDBOX_NAMESPACE");
      pb.environment().put("SCHEMAGATE_SANDBOX_PID_NAMESPACE", pidNamespace);
      Process run = pb.start();
      assertThat(run.waitFor(1, TimeUnit.MINUTES)).isTrue();
      String out = Files.readString(log);
      assertThat(run.exitValue()).as(out).isZero();
      assertThat(out)
          .as("the clone is read at its own path")
          .contains("the booter")
          .as("the rest of the host's /tmp is not there")
          .doesNotContain(clone.getFileName() + "-beside");
      assertThat(work.resolve("report.txt"))
          .as("what the command writes reaches the clone")
          .exists();
    } finally {
      Files.deleteIfExists(Path.of("/tmp", clone.getFileName() + "-beside"));
      try (var files = Files.walk(clone)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
