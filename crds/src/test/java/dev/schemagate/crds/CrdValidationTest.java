package dev.schemagate.crds;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The committed CRD rejects what the API server would reject: its OpenAPI schema, checked with a
 * JSON-schema validator, and its CEL rules, evaluated with CEL itself. (The operator's CrdDriftTest
 * checks that this file is the one the build generates.)
 */
class CrdValidationTest {
  static final String FILE = "databasemigrations.schemagate.dev-v1.yml";
  static final Path COMMITTED = Path.of(FILE);
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new JsonMapper();

  static JsonNode version() throws Exception {
    return YAML.readTree(COMMITTED.toFile()).path("spec").path("versions").get(0);
  }

  static List<String> schemaErrors(String yaml) throws Exception {
    String schemaJson = JSON.writeValueAsString(version().path("schema").path("openAPIV3Schema"));
    Schema schema =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4)
            .getSchema(schemaJson, InputFormat.JSON);
    String instance = JSON.writeValueAsString(YAML.readTree(yaml));
    List<String> messages = new ArrayList<>();
    for (Error error : schema.validate(instance, InputFormat.JSON)) {
      messages.add(error.toString());
    }
    return messages;
  }

  static final String GOOD =
      """
      apiVersion: schemagate.dev/v1alpha1
      kind: DatabaseMigration
      metadata: {name: orders}
      spec:
        image: registry.example.com/shop/orders-migrations:1.4.2
        targetRevision: "0005"
        tool: flyway
        database: {secretRef: {name: orders-db}}
        gate: {deployments: [orders-api]}
        downgrade: {policy: Allow}
        job: {activeDeadlineSeconds: 600, backoffLimit: 0}
        historyLimit: 20
      """;

  @Test
  void aGoodResourcePassesTheSchema() throws Exception {
    assertThat(schemaErrors(GOOD)).isEmpty();
  }

  @Test
  void theSchemaRejectsBadInputNamingTheField() throws Exception {
    assertThat(
            schemaErrors(
                GOOD.replace("  image: registry.example.com/shop/orders-migrations:1.4.2\n", "")))
        .anySatisfy(e -> assertThat(e).contains("image"));
    assertThat(schemaErrors(GOOD.replace("\"0005\"", "\"0005 \"")))
        .anySatisfy(e -> assertThat(e).contains("targetRevision"));
    assertThat(schemaErrors(GOOD.replace("\"0005\"", "\"\"")))
        .anySatisfy(e -> assertThat(e).contains("targetRevision"));
    assertThat(schemaErrors(GOOD.replace("tool: flyway", "tool: liquibase")))
        .anySatisfy(e -> assertThat(e).contains("tool"));
    assertThat(schemaErrors(GOOD.replace("policy: Allow", "policy: Sometimes")))
        .anySatisfy(e -> assertThat(e).contains("policy"));
    assertThat(schemaErrors(GOOD.replace("historyLimit: 20", "historyLimit: 0")))
        .anySatisfy(e -> assertThat(e).contains("historyLimit"));
    assertThat(schemaErrors(GOOD.replace("historyLimit: 20", "historyLimit: 101")))
        .anySatisfy(e -> assertThat(e).contains("historyLimit"));
    assertThat(schemaErrors(GOOD.replace("activeDeadlineSeconds: 600", "activeDeadlineSeconds: 0")))
        .anySatisfy(e -> assertThat(e).contains("activeDeadlineSeconds"));
    assertThat(schemaErrors(GOOD.replace("historyLimit: 20", "historyLimit: twenty")))
        .anySatisfy(e -> assertThat(e).contains("historyLimit"));
  }

  @Test
  void theSchemaCarriesDefaultsAndDescriptions() throws Exception {
    JsonNode spec =
        version().path("schema").path("openAPIV3Schema").path("properties").path("spec");
    assertThat(spec.path("properties").path("tool").path("default").asString()).isEqualTo("flyway");
    assertThat(spec.path("properties").path("historyLimit").path("default").asInt()).isEqualTo(20);
    assertThat(
            spec.path("properties")
                .path("downgrade")
                .path("properties")
                .path("policy")
                .path("default")
                .asString())
        .isEqualTo("Forbid");
    spec.path("properties")
        .properties()
        .forEach(
            f ->
                assertThat(f.getValue().path("description").asString())
                    .as(f.getKey())
                    .isNotBlank());
    assertThat(version().path("subresources").has("status")).isTrue();
    List<String> columns = new ArrayList<>();
    version().path("additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asString()));
    assertThat(columns).contains("TARGET", "CURRENT", "PHASE", "AGE", "JOB");
  }

  /**
   * Evaluates every x-kubernetes-validations rule of spec, and of the fields below it that the
   * sample sets, against the sample.
   */
  static List<String> celFailures(String yaml) throws Exception {
    JsonNode spec =
        version().path("schema").path("openAPIV3Schema").path("properties").path("spec");
    Cel cel =
        CelFactory.standardCelBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("self", SimpleType.DYN)
            .build();
    List<String> failures = new ArrayList<>();
    evaluate(cel, spec, YAML.readTree(yaml).path("spec"), failures);
    return failures;
  }

  private static void evaluate(Cel cel, JsonNode schema, JsonNode value, List<String> failures)
      throws Exception {
    if (value.isMissingNode() || value.isNull()) {
      return;
    }
    Object self = toCel(value);
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      var ast = cel.compile(rule.path("rule").asString()).getAst();
      Object ok = cel.createProgram(ast).eval(Map.of("self", self));
      if (!Boolean.TRUE.equals(ok)) {
        failures.add(rule.path("message").asString());
      }
    }
    if (value.isObject()) {
      for (var field : schema.path("properties").properties()) {
        evaluate(cel, field.getValue(), value.path(field.getKey()), failures);
      }
    }
  }

  static Object toCel(JsonNode node) {
    if (node.isObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      node.properties().forEach(f -> map.put(f.getKey(), toCel(f.getValue())));
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
    if (node.isNumber()) {
      return node.asDouble();
    }
    if (node.isBoolean()) {
      return node.asBoolean();
    }
    return node.asString();
  }

  /**
   * Every sample under samples/invalid (which the end-to-end suite also applies to a real API
   * server) is rejected offline too: by the schema, naming the field, or by a CEL rule's message.
   */
  @Test
  void everyInvalidSampleIsRejectedNamingTheField() throws Exception {
    java.util.List<Path> samples;
    try (var files = java.nio.file.Files.list(Path.of("samples/invalid"))) {
      samples = files.sorted().toList();
    }
    assertThat(samples).hasSizeGreaterThanOrEqualTo(12);
    // valid.yaml: the DatabaseMigration, then the Deployment it gates (a sample of both)
    List<String> documents =
        java.util.Arrays.stream(
                java.nio.file.Files.readString(Path.of("samples/valid.yaml")).split("(?m)^---$"))
            .filter(d -> d.contains("kind: DatabaseMigration"))
            .toList();
    assertThat(documents).hasSize(1);
    String valid = documents.get(0);
    assertThat(schemaErrors(valid)).isEmpty();
    assertThat(celFailures(valid)).isEmpty();
    for (Path sample : samples) {
      String yaml = java.nio.file.Files.readString(sample);
      java.util.regex.Matcher field =
          java.util.regex.Pattern.compile("(?m)^# rejected at: (\\S+)").matcher(yaml);
      java.util.regex.Matcher message =
          java.util.regex.Pattern.compile("(?m)^# message: (.+)$").matcher(yaml);
      assertThat(field.find()).as(sample + " names the field it is rejected at").isTrue();
      if (message.find()) {
        assertThat(celFailures(yaml)).as(sample.toString()).containsExactly(message.group(1));
      } else {
        String last = field.group(1).substring(field.group(1).lastIndexOf('.') + 1);
        assertThat(schemaErrors(yaml))
            .as(sample.toString())
            .anySatisfy(e -> assertThat(e).contains(last));
      }
    }
  }

  @Test
  void runAsUserMayBeAnyUserButRoot() throws Exception {
    assertThat(celFailures(GOOD.replace("backoffLimit: 0", "backoffLimit: 0, runAsUser: 1000")))
        .isEmpty();
    assertThat(celFailures(GOOD.replace("backoffLimit: 0", "backoffLimit: 0, runAsUser: 0")))
        .singleElement()
        .asString()
        .startsWith("spec.job.runAsUser must not be 0");
  }

  @Test
  void celRulesAcceptToolsUsedAsDocumented() throws Exception {
    assertThat(celFailures(GOOD)).isEmpty();
    assertThat(
            celFailures(
                GOOD.replace("tool: flyway", "tool: custom\n  command: [/bin/migrate, up]")))
        .isEmpty();
    assertThat(celFailures(GOOD.replace("  tool: flyway\n", ""))).isEmpty();
  }

  @Test
  void celRulesRejectACommandWithoutCustomAndCustomWithoutACommand() throws Exception {
    assertThat(celFailures(GOOD.replace("tool: flyway", "tool: flyway\n  command: [sh]")))
        .containsExactly(
            "spec.command is only used with spec.tool: custom; remove spec.command or set spec.tool: custom");
    assertThat(celFailures(GOOD.replace("tool: flyway", "tool: custom")))
        .containsExactly(
            "spec.tool: custom needs spec.command, the command that runs the migration");
    assertThat(celFailures(GOOD.replace("tool: flyway", "tool: custom\n  command: []")))
        .containsExactly(
            "spec.tool: custom needs spec.command, the command that runs the migration");
  }
}
