package dev.schemagate.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command-line tools the chart tests run: helm, node, lua5.4. */
final class Tools {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path CHART = ROOT.resolve("charts/schemagate");
  static final Path TOOLS = ROOT.resolve(".tools");

  record Result(int exit, String out, String err) {}

  private Tools() {}

  static Path helm() {
    Path helm =
        System.getenv("HELM") != null ? Path.of(System.getenv("HELM")) : TOOLS.resolve("bin/helm");
    if (!Files.isExecutable(helm)) {
      throw new IllegalStateException(
          helm + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return helm;
  }

  static Result helm(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(helm().toString());
    command.addAll(List.of(args));
    return run(command, null);
  }

  static Result run(List<String> command, String stdin) throws IOException, InterruptedException {
    Path out = Files.createTempFile("tool", ".out");
    Path err = Files.createTempFile("tool", ".err");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    Process process = builder.start();
    if (stdin != null) {
      process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    process.getOutputStream().close();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(command + " did not finish");
    }
    return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
  }
}
