package dev.schemagate.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The helm command line (installed under .tools/ by scripts/tools) against the sandbox's cluster.
 */
public final class Helm {
  private final Path helm;
  private final Path kubeconfig;
  private final Path home;

  public Helm(Path projectHome, Path kubeconfig, Path work) throws IOException {
    this.helm =
        Path.of(
            System.getProperty(
                "schemagate.helm", projectHome.resolve(".tools/bin/helm").toString()));
    if (!Files.isExecutable(helm)) {
      throw new IllegalStateException(helm + " is missing: run bash scripts/tools");
    }
    this.kubeconfig = kubeconfig;
    this.home = Files.createDirectories(work.resolve("helm"));
  }

  /** Runs helm; returns its output, or throws with it when helm fails. */
  public String run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(helm.toString());
    command.addAll(List.of(args));
    return exec(command, "helm " + String.join(" ", args));
  }

  /**
   * Runs one of the project's scripts that drive helm (scripts/chart), with this helm and its
   * configuration; returns its output, or throws with it when it fails.
   */
  public String script(Path script, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    return exec(command, script.getFileName() + " " + String.join(" ", args));
  }

  private String exec(List<String> command, String what) throws IOException, InterruptedException {
    Path out = Files.createTempFile(home, "helm", ".out");
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
    builder.environment().put("HELM", helm.toString());
    builder.environment().put("KUBECONFIG", kubeconfig.toString());
    builder.environment().put("HELM_CACHE_HOME", home.resolve("cache").toString());
    builder.environment().put("HELM_CONFIG_HOME", home.resolve("config").toString());
    builder.environment().put("HELM_DATA_HOME", home.resolve("data").toString());
    Process process = builder.start();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException(what + " did not finish in 5 minutes");
    }
    String output = Files.readString(out);
    Files.delete(out);
    if (process.exitValue() != 0) {
      throw new IllegalStateException(what + " failed:\n" + output);
    }
    return output;
  }
}
