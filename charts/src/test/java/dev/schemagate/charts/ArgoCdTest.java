package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Argo CD health check of DatabaseMigration as Argo CD runs it: laid out and tested as Argo
 * CD's built-in checks are (resource_customizations/schemagate.dev/DatabaseMigration: health.lua,
 * health_test.yaml, testdata), run through Argo CD's own Lua runtime both that way and as the
 * argocd-cm entry users add, and each health driven through gitops-engine's own sync with the
 * DatabaseMigration in sync wave 0 and the app in wave 1: what docs/gitops.md says Argo CD does.
 */
class ArgoCdTest {
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path CHECK =
      Tools.CHART.resolve("docs/resource_customizations/schemagate.dev/DatabaseMigration");
  static final Path CM = Tools.CHART.resolve("docs/argocd-cm.yaml");
  static final String KEY = "resource.customizations.health.schemagate.dev_DatabaseMigration";

  /**
   * What gitops-engine's sync does with the DatabaseMigration's health (docs/gitops.md's table).
   */
  record Sync(String phase, boolean completed, boolean appApplied) {}

  static final Map<String, Sync> SYNC =
      Map.of(
          "Healthy", new Sync("Succeeded", true, true),
          "Degraded", new Sync("Failed", true, false),
          "Progressing", new Sync("Running", false, false),
          "Suspended", new Sync("Running", false, false));

  record Case(String input, JsonNode obj, String status, String message) {}

  /** The tests of health_test.yaml, each with its input object. */
  static List<Case> cases() throws Exception {
    List<Case> cases = new ArrayList<>();
    for (JsonNode t : YAML.readTree(CHECK.resolve("health_test.yaml").toFile()).get("tests")) {
      String input = t.get("inputPath").asText();
      cases.add(
          new Case(
              input,
              YAML.readTree(CHECK.resolve(input).toFile()),
              t.at("/healthStatus/status").asText(),
              t.at("/healthStatus/message").asText()));
    }
    return cases;
  }

  static String objects(List<Case> cases) throws Exception {
    StringBuilder objects = new StringBuilder();
    for (Case c : cases) {
      objects.append(JSON.writeValueAsString(c.obj())).append('\n');
    }
    return objects.toString();
  }

  @Test
  void theArgocdCmEntryAndTheDocsCarryTheCheckAsItIsLaidOutForArgoCd() throws Exception {
    String lua = Files.readString(CHECK.resolve("health.lua"));
    assertThat(YAML.readTree(CM.toFile()).at("/data/" + KEY.replace("/", "~1")).asText())
        .as("charts/schemagate/docs/argocd-cm.yaml")
        .isEqualTo(lua);
    String docs = Files.readString(Tools.ROOT.resolve("docs/gitops.md"));
    Matcher block = Pattern.compile("```yaml\n(.*?)```", Pattern.DOTALL).matcher(docs);
    String entry = null;
    while (block.find()) {
      if (block.group(1).contains(KEY)) {
        entry = YAML.readTree(block.group(1)).at("/data/" + KEY).asText();
      }
    }
    assertThat(entry).as("docs/gitops.md's argocd-cm entry").isEqualTo(lua);
  }

  /**
   * argo-cd's own test of its built-in health checks (util/lua/health_test.go, TestLuaHealthScript)
   * on our folder: every test of health_test.yaml, and every file of testdata has one.
   */
  @Test
  void theCheckPassesArgoCdsOwnTestOfBuiltInChecks() throws Exception {
    List<Case> cases = cases();
    try (Stream<Path> files = Files.list(CHECK.resolve("testdata"))) {
      assertThat(cases.stream().map(Case::input))
          .containsExactlyInAnyOrderElementsOf(
              files.map(f -> "testdata/" + f.getFileName()).toList());
    }
    Tools.Result run =
        Tools.run(List.of(Tools.argocdLua().toString(), "-upstream", CHECK.toString()), null);
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    List<String> results = run.out().lines().toList();
    assertThat(results).hasSize(cases.size());
    for (String line : results) {
      JsonNode r = JSON.readTree(line);
      assertThat(r.get("got")).as(r.get("inputPath").asText()).isEqualTo(r.get("want"));
    }
  }

  /**
   * The argocd-cm entry as Argo CD's settings read it (a resource override, run without the open
   * libraries) gives each test's health too.
   */
  @Test
  void theArgocdCmEntryReadsEachPhaseAsTheTestsSay() throws Exception {
    List<Case> cases = cases();
    Tools.Result run =
        Tools.run(List.of(Tools.argocdLua().toString(), "-cm", CM.toString()), objects(cases));
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    List<String> results = run.out().lines().toList();
    assertThat(results).hasSize(cases.size());
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      JsonNode health = JSON.readTree(results.get(i));
      assertThat(health.path("status").asText()).as(c.input()).isEqualTo(c.status());
      assertThat(health.path("message").asText()).as(c.input()).isEqualTo(c.message());
    }
  }

  /**
   * gitops-engine's own sync (argocd-sync: sync.NewSyncContext and Sync once per reconcile, as
   * argo-cd's controller/sync.go runs them, the health from the argocd-cm entry), the
   * DatabaseMigration of each test in sync wave 0 and the app's Deployment in wave 1: Healthy
   * applies the app's wave and the operation succeeds; Degraded ends the operation as failed, the
   * app's wave never applied; Progressing and Suspended keep it running, the app's wave not
   * applied, and while it runs argo-cd's controller starts no other sync.
   */
  @Test
  void gitopsEnginesOwnSyncGatesTheAppsWaveOnEachPhaseAsTheDocsSay() throws Exception {
    List<Case> cases = cases();
    Tools.Result run =
        Tools.run(
            List.of(Tools.argocdSync().toString(), "-cm", CM.toString(), "-reconciles", "4"),
            syncInput(cases));
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.err()).as("the engine asked the fake cluster for nothing it lacks").isEmpty();
    List<String> results = run.out().lines().toList();
    assertThat(results).hasSize(cases.size());
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      JsonNode r = JSON.readTree(results.get(i));
      assertThat(r.get("health").asText()).as(c.input()).isEqualTo(c.status());
      Sync want = SYNC.get(c.status());
      assertThat(
              new Sync(
                  r.get("phase").asText(),
                  r.get("completed").asBoolean(),
                  r.get("appApplied").asBoolean()))
          .as(c.input() + ": " + r)
          .isEqualTo(want);
      if (!want.completed()) {
        assertThat(r.get("reconciles"))
            .as(c.input() + ": every reconcile waits for the migration")
            .hasSize(4)
            .allSatisfy(
                rec ->
                    assertThat(rec.get("message").asText())
                        .isEqualTo(
                            "waiting for healthy state of schemagate.dev/DatabaseMigration/orders"));
      }
    }
    Map<String, JsonNode> by = new java.util.HashMap<>();
    for (int i = 0; i < cases.size(); i++) {
      by.put(cases.get(i).input(), JSON.readTree(results.get(i)));
    }
    for (String resolvedByACommit :
        List.of(
            "testdata/degraded_approval_pending.yaml", "testdata/degraded_drift_blocked.yaml")) {
      assertThat(by.get(resolvedByACommit).get("completed").asBoolean())
          .as(resolvedByACommit + ": the operation ends, so the commit that resolves it syncs")
          .isTrue();
    }
    assertThat(by.get("testdata/degraded_failed.yaml").get("appApplied").asBoolean())
        .as("a failed migration stops the app's wave")
        .isFalse();
    assertThat(by.get("testdata/healthy_rollout_stuck.yaml").get("appApplied").asBoolean())
        .as("a stuck rollout lets the commit that fixes the app reach its wave")
        .isTrue();
  }

  static String syncInput(List<Case> cases) throws Exception {
    StringBuilder in = new StringBuilder();
    for (Case c : cases) {
      in.append(JSON.writeValueAsString(Map.of("name", c.input(), "obj", c.obj()))).append('\n');
    }
    return in.toString();
  }

  /**
   * An automated sync that failed is retried by argo-cd's controller before the next commit syncs
   * (autoSync's RetryStrategy{Limit: 5}; RetryStrategy.NextRetryAt): docs/gitops.md says how long.
   */
  @Test
  void theDocsSayHowLongArgoCdRetriesAFailedAutomatedSync() throws Exception {
    Tools.Result run = Tools.run(List.of(Tools.argocdSync().toString(), "-auto-sync-retry"), null);
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    List<String> retries = run.out().lines().toList();
    assertThat(retries).hasSize(5);
    JsonNode last = JSON.readTree(retries.get(retries.size() - 1));
    long total = last.get("totalSeconds").asLong();
    StringBuilder schedule = new StringBuilder();
    for (String r : retries) {
      schedule
          .append(schedule.isEmpty() ? "" : ", ")
          .append(JSON.readTree(r).get("afterSeconds").asLong());
    }
    String docs = Files.readString(Tools.ROOT.resolve("docs/gitops.md")).replaceAll("\\s+", " ");
    assertThat(docs).contains("after " + schedule + " s (" + total + " s in all)");
  }
}
