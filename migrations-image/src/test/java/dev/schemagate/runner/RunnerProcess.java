package dev.schemagate.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the runner as a process of its own, as a Job's container would, and keeps what it left. */
final class RunnerProcess {
  record Outcome(int exitCode, String stdout, String stderr, String result, long millis) {
    String everything() {
      return stdout + "\n" + stderr + "\n" + result;
    }
  }

  private final Map<String, String> env = new HashMap<>();
  private final Path work;

  RunnerProcess(Path work) {
    this.work = work;
  }

  RunnerProcess env(String name, String value) {
    env.put(name, value);
    return this;
  }

  Outcome run(String... args) throws IOException, InterruptedException {
    Path result = Files.createTempFile(work, "result", ".json");
    Files.delete(result);
    Path stdout = Files.createTempFile(work, "out", ".txt");
    Path stderr = Files.createTempFile(work, "err", ".txt");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.schemagate.runner.Runner");
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    builder.environment().clear();
    builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    builder.environment().put("SCHEMAGATE_RESULT_FILE", result.toString());
    builder.environment().putAll(env);
    long start = System.nanoTime();
    Process process = builder.start();
    if (!process.waitFor(180, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("runner did not finish in 180 s");
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    String resultText =
        Files.exists(result) ? Files.readString(result, StandardCharsets.UTF_8) : "";
    return new Outcome(
        process.exitValue(),
        Files.readString(stdout),
        Files.readString(stderr),
        resultText,
        millis);
  }
}
