package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The healthCheckExprs of the Flux recipe (docs/flux-kustomizations.yaml) evaluated with CEL, as
 * Flux's kustomize-controller does (the object's top-level fields as variables), on the
 * DatabaseMigrations the Argo CD health check is tested with (its testdata): each reads as the docs
 * say (failed, current or inProgress). Flux compares status.observedGeneration with the generation
 * before the expressions, and takes an object without a status as not ready: those two cases are
 * not evaluated.
 */
class FluxHealthExprsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theRecipesExpressionsReadEachCaseAsTheDocsSay() throws Exception {
    JsonNode recipe = null;
    YAMLFactory yaml = new YAMLFactory();
    List<JsonNode> documents =
        new ObjectMapper(yaml)
            .readValues(
                yaml.createParser(Tools.CHART.resolve("docs/flux-kustomizations.yaml").toFile()),
                JsonNode.class)
            .readAll();
    for (JsonNode document : documents) {
      for (JsonNode expr : document.path("spec").path("healthCheckExprs")) {
        if ("DatabaseMigration".equals(expr.path("kind").asText())) {
          recipe = expr;
        }
      }
    }
    assertThat(recipe).as("the recipe's healthCheckExprs for DatabaseMigration").isNotNull();
    Cel cel =
        CelFactory.standardCelBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("apiVersion", SimpleType.DYN)
            .addVar("kind", SimpleType.DYN)
            .addVar("metadata", SimpleType.DYN)
            .addVar("spec", SimpleType.DYN)
            .addVar("status", SimpleType.DYN)
            .build();
    var failed = cel.createProgram(cel.compile(recipe.path("failed").asText()).getAst());
    var current = cel.createProgram(cel.compile(recipe.path("current").asText()).getAst());
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("degraded_approval_pending", "failed");
    expected.put("degraded_baseline_required", "failed");
    expected.put("degraded_drift_blocked", "failed");
    expected.put("degraded_failed", "failed");
    expected.put("degraded_failed_deployment_held", "failed");
    expected.put("healthy", "current");
    expected.put("healthy_drift_reported", "current");
    // the expand part in place: the app's Kustomization must take its commits, the one that fixes
    // a stuck rollout included
    expected.put("healthy_awaiting_rollout", "current");
    expected.put("healthy_rollout_stuck", "current");
    expected.put("healthy_contract_approval_pending", "current");
    expected.put("healthy_contracting", "current");
    expected.put("progressing_migrating", "inProgress");
    expected.put("progressing_pods_held_at_admission", "inProgress");
    expected.put("suspended", "inProgress");
    Path testdata = ArgoCdTest.CHECK.resolve("testdata");
    Map<String, String> read = new LinkedHashMap<>();
    try (var files = Files.list(testdata)) {
      for (Path file : files.sorted().toList()) {
        String name = file.getFileName().toString().replaceFirst("\\.yaml$", "");
        if (name.equals("progressing_no_status")
            || name.equals("progressing_generation_not_observed")) {
          continue;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> obj =
            (Map<String, Object>) toCel(new ObjectMapper(yaml).readTree(file.toFile()));
        Map<String, Object> vars = new LinkedHashMap<>();
        for (String field : List.of("apiVersion", "kind", "metadata", "spec", "status")) {
          vars.put(field, obj.getOrDefault(field, Map.of()));
        }
        read.put(
            name,
            Boolean.TRUE.equals(failed.eval(vars))
                ? "failed"
                : Boolean.TRUE.equals(current.eval(vars)) ? "current" : "inProgress");
      }
    }
    assertThat(read).as("every testdata object, read by the recipe").isEqualTo(expected);
  }

  static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.fields().forEachRemaining(f -> map.put(f.getKey(), toCel(f.getValue())));
      return map;
    }
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(n -> list.add(toCel(n)));
      return list;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asText();
  }
}
