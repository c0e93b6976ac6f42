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
 * DatabaseMigrations the Argo CD health check is tested with: each case that names a Flux reading
 * ("flux": failed, current or inProgress) reads so. Flux compares status.observedGeneration with
 * the generation before the expressions, as the cases' generations agree.
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
    int read = 0;
    for (String line :
        Files.readAllLines(Path.of("src/test/resources/argocd-health-cases.jsonl"))) {
      JsonNode c = JSON.readTree(line);
      if (!c.has("flux")) {
        continue;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> obj = (Map<String, Object>) toCel(c.get("obj"));
      Map<String, Object> vars = new LinkedHashMap<>();
      for (String field : List.of("apiVersion", "kind", "metadata", "spec", "status")) {
        vars.put(field, obj.getOrDefault(field, Map.of()));
      }
      String reading =
          Boolean.TRUE.equals(failed.eval(vars))
              ? "failed"
              : Boolean.TRUE.equals(current.eval(vars)) ? "current" : "inProgress";
      assertThat(reading).as(c.get("name").asText()).isEqualTo(c.get("flux").asText());
      read++;
    }
    assertThat(read).as("cases with a Flux reading").isGreaterThanOrEqualTo(4);
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
