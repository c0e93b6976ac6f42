package dev.schemagate.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The operator, run from its jar as its own process against the sandbox's kubeconfig. */
public final class OperatorProcess implements Operator {
  /**
   * The operator's JVM options, as the chart sets them (override: -Dschemagate.operator.jvm=...).
   */
  public static final String DEFAULT_JVM = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx128m";

  private final Path java;
  private final List<String> jvmOptions;
  private final Path jar;
  private final Path kubeconfig;
  private final Path log;
  private final Map<String, String> env;
  private Path workingDir;
  private Process process;

  /**
   * The options of -Dschemagate.operator.jvm, else {@link #DEFAULT_JVM}: separated by spaces, or by
   * commas before a dash ({@code -XX:+UseSerialGC,-XX:MaxRAM=384m}), so that one word of a shell
   * variable can carry several.
   */
  public static List<String> jvmOptions() {
    return List.of(
        System.getProperty("schemagate.operator.jvm", DEFAULT_JVM).trim().split("\\s+|,(?=-)"));
  }

  /** The operator's jar run by this JVM, with the options of -Dschemagate.operator.jvm. */
  public OperatorProcess(Path jar, Path kubeconfig, Path log, Map<String, String> env) {
    this(
        Path.of(System.getProperty("java.home"), "bin", "java"),
        jvmOptions(),
        jar,
        kubeconfig,
        log,
        env);
  }

  /**
   * A jar run by the given java with the given options (the benchmarks compare builds and JVMs).
   */
  public OperatorProcess(
      Path java,
      List<String> jvmOptions,
      Path jar,
      Path kubeconfig,
      Path log,
      Map<String, String> env) {
    this.java = java;
    this.jvmOptions = jvmOptions;
    this.jar = jar;
    this.kubeconfig = kubeconfig;
    this.log = log;
    this.env = env;
  }

  /** Starts the process and waits until its controller is reconciling. */
  @Override
  public OperatorProcess start() throws IOException, InterruptedException {
    launch();
    Instant deadline = Instant.now().plusSeconds(60);
    while (!log().contains("started in")) {
      if (!isAlive() || Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("the operator did not start:\n" + log());
      }
      Thread.sleep(50);
    }
    return this;
  }

  /**
   * Runs the process in this directory (the image's runtime names its archive relative to it, as
   * /deployments is the image's working directory).
   */
  public OperatorProcess in(Path dir) {
    this.workingDir = dir;
    return this;
  }

  /** Starts the process and returns at once. */
  public OperatorProcess launch() throws IOException {
    if (!Files.exists(workingDir == null ? jar : workingDir.resolve(jar))) {
      throw new IllegalStateException(
          jar + " is missing: build it with mvn -pl operator -am package -DskipTests");
    }
    List<String> command = new ArrayList<>();
    command.add(java.toString());
    for (String option : jvmOptions) {
      if (!option.isBlank()) {
        command.add(option);
      }
    }
    command.add("-Dkubernetes.user.agent=schemagate-operator");
    command.add("-jar");
    command.add(jar.toString());
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("QUARKUS_HTTP_PORT", "0");
    builder.environment().putAll(env);
    process = builder.start();
    // the operator must not outlive the sandbox, however the sandbox ends
    Process started = process;
    Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
    return this;
  }

  @Override
  public boolean isAlive() {
    return process != null && process.isAlive();
  }

  @Override
  public long pid() {
    return process.pid();
  }

  /** Waits until the process exits by itself, at most {@code timeout}; whether it did. */
  public boolean awaitExit(Duration timeout) throws InterruptedException {
    return process == null || process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops the process with SIGTERM and waits for it to exit, at most {@code timeout}. */
  public void stop(Duration timeout) throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
      }
    }
  }

  /** Stops the process at once, as a node failure or an OOM kill would. */
  @Override
  public void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public String log() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
