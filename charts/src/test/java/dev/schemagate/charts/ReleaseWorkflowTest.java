package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The release workflow (.github/workflows): actionlint, built from its Go module, finds nothing in
 * it (shellcheck checking its scripts); it publishes only through the commands the sandbox runs
 * against its own registry; and it names no registry: that is the repository's variable.
 */
class ReleaseWorkflowTest {
  static final Path WORKFLOWS = Tools.ROOT.resolve(".github/workflows");
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();

  static Path actionlint() {
    Path actionlint = Tools.TOOLS.resolve("bin/actionlint");
    if (!Files.isExecutable(actionlint)) {
      throw new IllegalStateException(
          actionlint + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return actionlint;
  }

  /** Debian's shellcheck, which actionlint runs on every script of a workflow. */
  static Path shellcheck() {
    Path shellcheck = Path.of("/usr/bin/shellcheck");
    if (!Files.isExecutable(shellcheck)) {
      throw new IllegalStateException(
          shellcheck + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return shellcheck;
  }

  /** actionlint's findings on these files, from the repository's root, as JSON objects. */
  static List<JsonNode> findings(Path... files) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "bash",
                "-c",
                "cd \"$0\" && exec \"$@\"",
                Tools.ROOT.toString(),
                actionlint().toString(),
                "-shellcheck=" + shellcheck(),
                "-pyflakes=",
                "-format",
                "{{json .}}"));
    for (Path f : files) {
      command.add(Tools.ROOT.relativize(f.toAbsolutePath()).toString());
    }
    Tools.Result lint = Tools.run(command, null);
    assertThat(lint.err()).as("actionlint's errors").isEmpty();
    List<JsonNode> found = new ArrayList<>();
    JSON.readTree(lint.out().isBlank() ? "[]" : lint.out()).forEach(found::add);
    assertThat(lint.exit()).as(lint.out()).isEqualTo(found.isEmpty() ? 0 : 1);
    return found;
  }

  static List<Path> workflows() throws Exception {
    try (Stream<Path> files = Files.list(WORKFLOWS)) {
      return files.filter(f -> f.toString().matches(".*\\.ya?ml")).sorted().toList();
    }
  }

  @Test
  void actionlintFindsNothingInTheWorkflows() throws Exception {
    List<Path> workflows = workflows();
    assertThat(workflows).extracting(f -> f.getFileName().toString()).contains("release.yml");
    assertThat(findings(workflows.toArray(Path[]::new))).isEmpty();
  }

  /** What a clean result is worth: on a flawed workflow the same run reports each flaw. */
  @Test
  void actionlintReportsAFlawedWorkflow() throws Exception {
    Path flawed = Files.createDirectories(Path.of("target", "workflows")).resolve("flawed.yml");
    Files.copy(
        Path.of("src/test/resources/flawed-workflow.yml"),
        flawed,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    List<JsonNode> found = findings(flawed);
    assertThat(found)
        .extracting(f -> f.path("kind").asText())
        .containsExactlyInAnyOrder("action", "shellcheck", "expression");
    assertThat(found)
        .extracting(f -> f.path("message").asText())
        .anySatisfy(m -> assertThat(m).contains("\"fetch-dept\" is not defined"))
        .anySatisfy(m -> assertThat(m).contains("SC2086"))
        .anySatisfy(m -> assertThat(m).contains("potentially untrusted"));
  }

  /** Every script the workflow runs, in order. */
  static List<String> scripts(JsonNode workflow) {
    List<String> scripts = new ArrayList<>();
    workflow
        .path("jobs")
        .forEach(
            job ->
                job.path("steps")
                    .forEach(
                        step -> {
                          if (step.has("run")) {
                            scripts.add(step.path("run").asText());
                          }
                        }));
    return scripts;
  }

  @Test
  void theReleasePublishesWithTheSandboxsCommandsOnly() throws Exception {
    JsonNode release = YAML.readTree(WORKFLOWS.resolve("release.yml").toFile());
    String runs = String.join("\n", scripts(release));
    assertThat(runs)
        .contains(
            "bash scripts/images push \"$REGISTRY\" --arch \"$ARCH\" --released",
            "bash scripts/images index \"$REGISTRY\" amd64 arm64",
            "bash scripts/chart push \"$REGISTRY\"");
    // images and the chart reach the registry only through those scripts
    assertThat(runs).doesNotContainPattern("helm (push|package)|crane (push|append|mutate|index)");
    assertThat(runs).doesNotContainPattern("(?m)^\\s*(\\S*/)?oras ");
    // the same scripts the sandbox runs against its registry
    Path sandbox = Tools.ROOT.resolve("sandbox/src/main/java/dev/schemagate/sandbox");
    String images = Files.readString(sandbox.resolve("RegistryImages.java"));
    assertThat(images).contains("\"scripts/images\"", "\"push\"", "\"index\"");
    assertThat(Files.readString(sandbox.resolve("ChartOperator.java")))
        .contains("\"scripts/chart\"", "\"push\"");
    // built on a runner of each architecture
    assertThat(release.at("/jobs/images/strategy/matrix/include").findValuesAsText("arch"))
        .containsExactly("amd64", "arm64");
  }

  @Test
  void theRegistryIsTheRepositorysVariableNamedInNoFile() throws Exception {
    JsonNode release = YAML.readTree(WORKFLOWS.resolve("release.yml").toFile());
    assertThat(release.at("/env/REGISTRY").asText()).isEqualTo("${{ vars.RELEASE_REGISTRY }}");
    Pattern host = Pattern.compile("\\b[a-z0-9-]+(\\.[a-z0-9-]+)+(:[0-9]+)?/");
    for (Path workflow : workflows()) {
      assertThat(host.matcher(Files.readString(workflow)).results().map(r -> r.group()).toList())
          .as("registry host names in %s", workflow)
          .isEmpty();
    }
  }
}
