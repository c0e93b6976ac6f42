package dev.schemagate.sandbox.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One control-plane process with its log file. Stopped with SIGTERM, then SIGKILL after a grace
 * period; stopped also when the JVM exits. Its pid goes into a file of the sandbox's, so that a
 * later start can stop what a killed JVM left behind ({@link #stopLeftovers}).
 */
public final class Daemon implements AutoCloseable {
  public final String name;
  public final Path log;
  private final List<String> command;
  private final List<String> env;
  private final Path dir;
  private final Path pids;
  private volatile Process process;
  private final Thread hook;

  private Daemon(String name, List<String> command, Path dir, Path pids, List<String> env)
      throws IOException {
    this.name = name;
    this.log = dir.resolve(name + ".log");
    this.command = List.copyOf(command);
    this.env = List.copyOf(env);
    this.dir = dir;
    this.pids = pids;
    this.process = launch();
    this.hook = new Thread(() -> stop(0));
    Runtime.getRuntime().addShutdownHook(hook);
  }

  public static Daemon start(String name, List<String> command, Path dir, Path pids)
      throws IOException {
    return new Daemon(name, command, dir, pids, List.of());
  }

  /** The same, with these variables ("NAME=value") added to its environment. */
  public static Daemon start(
      String name, List<String> command, Path dir, Path pids, List<String> env) throws IOException {
    return new Daemon(name, command, dir, pids, env);
  }

  private Process launch() throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command);
    for (String variable : env) {
      int eq = variable.indexOf('=');
      builder.environment().put(variable.substring(0, eq), variable.substring(eq + 1));
    }
    Process started =
        builder
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    record(pids, started.pid());
    return started;
  }

  /**
   * Starts the process again, with the same command (and so the same ports and data), after it was
   * stopped: an outage that ends.
   */
  public synchronized void startAgain() throws IOException {
    if (process.isAlive()) {
      throw new IllegalStateException(name + " still runs");
    }
    process = launch();
  }

  /**
   * Notes a process (with its program, so that a reused pid is never taken for it) in a pids file.
   */
  public static synchronized void record(Path pids, long pid) {
    String command = ProcessHandle.of(pid).flatMap(p -> p.info().command()).orElse("");
    try {
      Files.writeString(
          pids, pid + " " + command + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Kills the processes a previous sandbox in this directory listed and did not stop. */
  public static void stopLeftovers(Path pids) throws IOException {
    if (!Files.exists(pids)) {
      return;
    }
    for (String line : Files.readAllLines(pids)) {
      String[] parts = line.split(" ", 2);
      ProcessHandle.of(Long.parseLong(parts[0]))
          .filter(
              p ->
                  parts.length > 1
                      && !parts[1].isEmpty()
                      && p.info().command().map(parts[1]::equals).orElse(false))
          .ifPresent(ProcessHandle::destroyForcibly);
    }
    Files.delete(pids);
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

  /**
   * Waits until the condition holds, checking every 50 ms; fails when this process exits first or
   * the time is up, with the end of its log.
   */
  public void waitUntil(String what, Duration limit, BooleanSupplier condition)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    while (!condition.getAsBoolean()) {
      if (!isAlive() || Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "timed out waiting until "
                + what
                + (isAlive() ? "" : " (" + name + " exited)")
                + "; "
                + log
                + " ends with:\n"
                + tail(3000));
      }
      Thread.sleep(50);
    }
  }

  /** The log's last characters, for an error message. */
  public String tail(int chars) {
    try {
      String text = Files.readString(log);
      return text.substring(Math.max(0, text.length() - chars));
    } catch (IOException e) {
      return "";
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  public void stop(int graceSeconds) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the process now (SIGKILL), as a crash would. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop(5);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
