package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How Argo CD reads live DatabaseMigrations, run with Argo CD's own code on them: the health from
 * the argocd-cm entry of charts/schemagate/docs through Argo CD's Lua runtime (argocd-lua), and
 * what gitops-engine's own sync does with the DatabaseMigration in sync wave 0 and the app in wave
 * 1 (argocd-sync); both as docs/gitops.md's Argo CD table says.
 */
final class ArgoCdReading {
  static final Path CM = E2e.HOME.resolve("charts/schemagate/docs/argocd-cm.yaml");

  /** The health of each state, as docs/gitops.md's table says. */
  static final Map<String, String> HEALTH =
      Map.ofEntries(
          Map.entry(LiveStates.NOT_OBSERVED, "Progressing"),
          Map.entry("Pending", "Progressing"),
          Map.entry("Migrating", "Progressing"),
          Map.entry("Ready", "Healthy"),
          Map.entry("RollingOut", "Healthy"),
          Map.entry("Contracting", "Healthy"),
          Map.entry("Failed", "Degraded"),
          Map.entry("AwaitingApproval", "Degraded"),
          Map.entry("DriftBlocked", "Degraded"));

  /** What the sync of the commit does on each health: its phase, and whether the app is applied. */
  static final Map<String, String> SYNC =
      Map.of(
          "Healthy", "Succeeded, app applied",
          "Degraded", "Failed, app not applied",
          "Progressing", "Running, app not applied");

  private ArgoCdReading() {}

  /** Asserts Argo CD's reading of each state recorded; prints it. */
  static void assertReadsAsDocumented(Map<String, JsonNode> states) throws Exception {
    List<String> names = new ArrayList<>(states.keySet());
    StringBuilder objects = new StringBuilder();
    StringBuilder scenarios = new StringBuilder();
    for (String name : names) {
      String obj = LiveStates.JSON.writeValueAsString(states.get(name));
      objects.append(obj).append('\n');
      scenarios
          .append(LiveStates.JSON.writeValueAsString(Map.of("name", name, "obj", states.get(name))))
          .append('\n');
    }
    List<String> health = run(tool("argocd-lua"), objects.toString());
    List<String> sync = run(tool("argocd-sync"), scenarios.toString());
    assertThat(health).hasSize(names.size());
    assertThat(sync).hasSize(names.size());
    for (int i = 0; i < names.size(); i++) {
      String state = names.get(i);
      JsonNode h = LiveStates.JSON.readTree(health.get(i));
      JsonNode s = LiveStates.JSON.readTree(sync.get(i));
      String got =
          s.get("phase").asText()
              + (s.get("appApplied").asBoolean() ? ", app applied" : ", app not applied");
      System.out.println(
          "Argo CD on the live DatabaseMigration "
              + state
              + ": "
              + h.get("status").asText()
              + " ("
              + h.path("message").asText()
              + "); the sync with the app in the next wave: "
              + got);
      assertThat(h.get("status").asText()).as(state + ": " + h).isEqualTo(HEALTH.get(state));
      assertThat(got).as(state + ": " + s).isEqualTo(SYNC.get(HEALTH.get(state)));
    }
  }

  private static Path tool(String name) {
    Path tool = E2e.HOME.resolve(".tools/bin").resolve(name);
    if (!Files.isExecutable(tool)) {
      throw new IllegalStateException(tool + " is missing: run bash scripts/tools");
    }
    return tool;
  }

  private static List<String> run(Path tool, String stdin)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("argocd", ".out");
    Path err = Files.createTempFile("argocd", ".err");
    Process p =
        new ProcessBuilder(tool.toString(), "-cm", CM.toString())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(tool + " did not finish");
    }
    assertThat(p.exitValue()).as(tool + ": " + Files.readString(err)).isZero();
    assertThat(Files.readString(err)).as(tool + " stderr").isEmpty();
    return Files.readString(out).lines().toList();
  }
}
