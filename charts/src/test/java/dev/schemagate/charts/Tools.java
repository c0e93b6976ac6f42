package dev.schemagate.charts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command-line tools the chart tests run: helm, promtool, node, argocd-lua, argocd-sync. */
final class Tools {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path CHART = ROOT.resolve("charts/schemagate");
  static final Path TOOLS = ROOT.resolve(".tools");

  /** The operator's image a release writes into the chart: an index, by digest. */
  static final String RELEASE_REPOSITORY = "registry.example.com/schemagate/operator";

  static final String RELEASE_DIGEST = "sha256:" + "c".repeat(64);

  record Result(int exit, String out, String err) {}

  /** The release's Alembic kit image, by digest. */
  static final String RELEASE_KIT =
      "images.example.org/schemagate/alembic-kit@sha256:" + "e".repeat(64);

  private static Path released;

  private Tools() {}

  /**
   * The chart as a release publishes it (scripts/chart package): charts/schemagate with the
   * release's images written into its values. What the tests render, as users install it.
   */
  static synchronized Path released() throws IOException, InterruptedException {
    if (released == null) {
      Path dir = Path.of("target", "released-chart").toAbsolutePath();
      Result packaged =
          run(
              List.of(
                  "bash",
                  ROOT.resolve("scripts/chart").toString(),
                  "package",
                  RELEASE_REPOSITORY + "@" + RELEASE_DIGEST,
                  RELEASE_KIT,
                  dir.toString()),
              null);
      if (packaged.exit() != 0) {
        throw new IllegalStateException("scripts/chart package failed: " + packaged.err());
      }
      released = Path.of(packaged.out().strip());
    }
    return released;
  }

  static Path helm() {
    Path helm =
        System.getenv("HELM") != null ? Path.of(System.getenv("HELM")) : TOOLS.resolve("bin/helm");
    if (!Files.isExecutable(helm)) {
      throw new IllegalStateException(
          helm + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return helm;
  }

  /** promtool, built from the Prometheus Go module by scripts/tools. */
  static Path promtool() {
    Path promtool = TOOLS.resolve("bin/promtool");
    if (!Files.isExecutable(promtool)) {
      throw new IllegalStateException(
          promtool + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return promtool;
  }

  /**
   * argocd-lua, the Argo CD health check run through Argo CD's own Lua runtime (util/lua of the
   * argo-cd module), built by scripts/tools (controlplane/argocd-lua).
   */
  static Path argocdLua() {
    return built("argocd-lua");
  }

  /**
   * argocd-sync, gitops-engine's own sync (pkg/sync of the argo-cd module) on a DatabaseMigration
   * in sync wave 0 and its app in wave 1, built by scripts/tools (controlplane/argocd-lua).
   */
  static Path argocdSync() {
    return built("argocd-sync");
  }

  private static Path built(String name) {
    Path tool = TOOLS.resolve("bin").resolve(name);
    if (!Files.isExecutable(tool)) {
      throw new IllegalStateException(
          tool + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return tool;
  }

  static Result promtool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(promtool().toString());
    command.addAll(List.of(args));
    return run(command, null);
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
