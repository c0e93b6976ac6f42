package dev.schemagate.sandbox;

import dev.schemagate.sandbox.cluster.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The images of the sandbox cluster, in its registry: schemagate's own, assembled and pushed by
 * {@code scripts/images push} (the command a release runs against its registry), and those a test
 * or the demo derives from them (a runner image with its own SQL, an app that idles, a Job that
 * reports a set result), pushed under their short names. The node's containerd resolves short names
 * ({@code e2e/orders:1}) through the sandbox's registry, as a registry mirror: a name nobody pushed
 * fails to pull, as it would on a cluster.
 */
public final class RegistryImages {
  private final Path home;
  private final Path crane;
  private final Path work;
  private final Map<String, String> project;
  private final Map<String, String> manifests;

  private RegistryImages(
      Path home,
      Path crane,
      Path work,
      Map<String, String> project,
      Map<String, String> manifests) {
    this.home = home;
    this.crane = crane;
    this.work = work;
    this.project = project;
    this.manifests = manifests;
  }

  /** This machine's architecture as Debian and the images name it (amd64, arm64). */
  static String arch() {
    String arch = System.getProperty("os.arch");
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64", "arm64" -> "arm64";
      default -> throw new IllegalStateException("no images are built for " + arch);
    };
  }

  /**
   * Pushes schemagate's images as a release does: {@code scripts/images push} (this machine's
   * architecture), then {@code scripts/images index} (one index per image, the reference a chart
   * names), and returns them.
   */
  static RegistryImages push(Path home, Path bin, Path work)
      throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path log = work.resolve("images.log");
    Files.deleteIfExists(log);
    String arch = arch();
    images(home, log, "push", Network.REGISTRY, "--plain-http", "--arch", arch);
    images(home, log, "index", Network.REGISTRY, "--plain-http", arch);
    Path lists = home.resolve(".tools/images");
    return new RegistryImages(
        home,
        bin.resolve("crane"),
        work,
        read(lists.resolve(Network.REGISTRY + ".txt")),
        read(lists.resolve(Network.REGISTRY + "-" + arch + ".txt")));
  }

  private static void images(Path home, Path log, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(List.of("bash", home.resolve("scripts/images").toString()));
    command.addAll(List.of(args));
    Process p =
        new ProcessBuilder(command)
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "scripts/images " + args[0] + " failed:\n" + Files.readString(log));
    }
  }

  /** A list scripts/images writes: one line per image, "name ref@sha256:digest". */
  private static Map<String, String> read(Path list) throws IOException {
    Map<String, String> images = new LinkedHashMap<>();
    for (String line : Files.readAllLines(list)) {
      String[] parts = line.split(" ", 2);
      images.put(parts[0], parts[1]);
    }
    return images;
  }

  /**
   * One of schemagate's images, by digest: operator, runner, example-app, pause, ... (its index, as
   * a release publishes it).
   */
  public String project(String name) {
    return of(project, name);
  }

  /**
   * One of schemagate's images, its manifest of this machine's architecture: what derive starts
   * from.
   */
  private String manifest(String name) {
    return of(manifests, name);
  }

  private static String of(Map<String, String> images, String name) {
    String ref = images.get(name);
    if (ref == null) {
      throw new IllegalArgumentException(
          "scripts/images pushed no image " + name + ": " + images.keySet());
    }
    return ref;
  }

  /**
   * A migration image FROM the runner with these SQL files in /migrations, as a team builds one,
   * running as this user ("" for root, a name, or uid:gid).
   */
  public String runner(String image, Path sql, String user)
      throws IOException, InterruptedException {
    Path stage = stage(image);
    Path migrations = Files.createDirectories(stage.resolve("migrations"));
    try (Stream<Path> files = Files.list(sql)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, migrations.resolve(f.getFileName()));
      }
    }
    derive(manifest("runner"), image, layer(stage, "migrations"), List.of("--user", user));
    return image;
  }

  /**
   * An image of a Python project over the example's (Python, /opt/venv): the project's files in
   * /app, these variables added to its environment.
   */
  public String python(String image, Path project, Map<String, String> env)
      throws IOException, InterruptedException {
    Path stage = stage(image);
    copyTree(project, stage.resolve("app"));
    List<String> mutate = new ArrayList<>();
    env.forEach((k, v) -> mutate.addAll(List.of("--env", k + "=" + v)));
    derive(manifest("example-app"), image, layer(stage, "app"), mutate);
    return image;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path f : walk.toList()) {
        if (f.toString().contains("__pycache__")) {
          continue;
        }
        Path target = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  /** An app image that serves nothing and runs until it is stopped (Kubernetes' pause program). */
  public String idle(String image) throws IOException, InterruptedException {
    derive(manifest("pause"), image, null, List.of());
    return image;
  }

  /**
   * A Job image that runs for a set time, writes a set result to the Job contract's result file
   * ({@code $SCHEMAGATE_TARGET_REVISION} in it replaced by the run's target) and exits with a set
   * code.
   */
  public String simulated(String image, Duration runFor, String result, int exitCode)
      throws IOException, InterruptedException {
    Path stage = stage(image);
    Files.writeString(
        stage.resolve("simulate.sh"),
        String.join(
            "\n",
            "# runs for a set time, reports a set result (the Job contract; $SCHEMAGATE_TARGET_REVISION",
            "# in it is the run's target) and exits with a set code",
            "sleep \"$SIMULATED_SECONDS\"",
            "printf %s \"$SIMULATED_RESULT\" | sed \"s|\\\\\\$SCHEMAGATE_TARGET_REVISION|$SCHEMAGATE_TARGET_REVISION|g\" \\",
            "  >\"${SCHEMAGATE_RESULT_FILE:-/dev/termination-log}\"",
            "exit \"$SIMULATED_EXIT\"",
            ""));
    derive(
        manifest("example-app"),
        image,
        layer(stage, "simulate.sh"),
        List.of(
            "--user",
            "65532:65532",
            "--env",
            "SIMULATED_SECONDS=" + runFor.toMillis() / 1000.0,
            "--env",
            "SIMULATED_RESULT=" + result,
            "--env",
            "SIMULATED_EXIT=" + exitCode,
            "--entrypoint",
            "/bin/sh,/simulate.sh"));
    return image;
  }

  /**
   * An image FROM one of schemagate's (by digest) with a layer of files added under the stage
   * folder's paths and the config changed by crane mutate's options.
   */
  public String derive(String base, String image, Path layer, List<String> mutate)
      throws IOException, InterruptedException {
    String ref = Network.REGISTRY + "/" + repository(image);
    List<String> command =
        new ArrayList<>(List.of(crane.toString(), "mutate", "--insecure", base, "-t", ref));
    if (layer != null) {
      command.addAll(List.of("--append", layer.toString()));
    }
    command.addAll(mutate);
    run(command);
    return image;
  }

  /**
   * The repository the sandbox's registry holds an image under, as the node asks its mirror for it:
   * the name without its registry, library/ before a name with no slash (Docker Hub's way).
   */
  static String repository(String image) {
    if (image.contains("@")) {
      throw new IllegalArgumentException("derive images by tag, not by digest: " + image);
    }
    String first = image.contains("/") ? image.substring(0, image.indexOf('/')) : "";
    if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
      return image.substring(first.length() + 1);
    }
    return image.contains("/") ? image : "library/" + image;
  }

  /** A folder to put an image's files in. */
  public Path stage(String image) throws IOException {
    Path stage = work.resolve("stage").resolve(image.replaceAll("[^A-Za-z0-9._-]", "-"));
    if (Files.exists(stage)) {
      try (Stream<Path> walk = Files.walk(stage)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    return Files.createDirectories(stage);
  }

  /** A layer of the stage's paths, the same for the same files (no times, no owners). */
  public Path layer(Path stage, String... paths) throws IOException, InterruptedException {
    Path out = stage.resolveSibling(stage.getFileName() + ".tar");
    List<String> command =
        new ArrayList<>(
            List.of(
                "tar",
                "--sort=name",
                "--mtime=@0",
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "-C",
                stage.toString(),
                "-cf",
                out.toString()));
    command.addAll(List.of(paths));
    run(command);
    return out;
  }

  private void run(List<String> command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).directory(home.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
    }
  }
}
