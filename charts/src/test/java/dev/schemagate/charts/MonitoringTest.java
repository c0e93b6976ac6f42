package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The chart's alerts and dashboard: the rules pass promtool's checks and its unit tests (each alert
 * firing and not firing), the PrometheusRule, the rules ConfigMap and the plain rules file are one
 * set of rules, the thresholds are values, and every query of the rules and of the dashboard parses
 * and reads only series the operator exports (charts/schemagate/monitoring/metrics.txt, which the
 * operator's ExportedMetricsTest holds to what it exports).
 */
class MonitoringTest {
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path MONITORING = Tools.CHART.resolve("monitoring");
  static final Path RULES = MONITORING.resolve("schemagate.rules.yaml");
  static final Path DASHBOARD = MONITORING.resolve("dashboard.json");
  static final Path QUERIES = MONITORING.resolve("dashboard-queries.txt");
  static final Path UNIT_TESTS = Path.of("src/test/resources/alerts_test.yaml").toAbsolutePath();
  static final List<String> ALERTS =
      List.of(
          "SchemagateMigrationStalled",
          "SchemagateRolloutHeldTooLong",
          "SchemagatePodsWaitingAtGate",
          "SchemagateDriftDetected",
          "SchemagateDriftChecksFailing",
          "SchemagateWebhookErrors",
          "SchemagateWebhookSlow",
          "SchemagateNoLeader",
          "SchemagateReconcileErrors");

  /** The groups of the rendered rules: of the PrometheusRule, and of the rules ConfigMap. */
  static Map<String, JsonNode> renderedGroups(String... values) throws Exception {
    List<String> args = new ArrayList<>();
    args.addAll(
        List.of(
            "--set",
            "metrics.prometheusRule.enabled=true",
            "--set",
            "metrics.rulesConfigMap.enabled=true"));
    args.addAll(List.of(values));
    List<JsonNode> docs = ChartTest.render(args.toArray(String[]::new));
    Map<String, JsonNode> groups = new LinkedHashMap<>();
    groups.put(
        "PrometheusRule", ChartTest.ofKind(docs, "PrometheusRule").get(0).at("/spec/groups"));
    JsonNode configMap =
        ChartTest.ofKind(docs, "ConfigMap").stream()
            .filter(c -> c.at("/metadata/name").asText().endsWith("-rules"))
            .findFirst()
            .orElseThrow();
    groups.put(
        "ConfigMap",
        YAML.readTree(configMap.at("/data/schemagate.rules.yaml").asText()).path("groups"));
    return groups;
  }

  static JsonNode rule(JsonNode groups, String alert) {
    for (JsonNode rule : groups.get(0).path("rules")) {
      if (alert.equals(rule.path("alert").asText())) {
        return rule;
      }
    }
    throw new AssertionError("no alert " + alert);
  }

  @Test
  void theRulesPassPromtoolsChecksAndEveryAlertFiresAndStaysQuietInItsUnitTests() throws Exception {
    Tools.Result check =
        Tools.promtool("check", "rules", "--lint=all", "--lint-fatal", RULES.toString());
    assertThat(check.exit()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("SUCCESS: " + ALERTS.size() + " rules found");
    Tools.Result test = Tools.promtool("test", "rules", UNIT_TESTS.toString());
    assertThat(test.exit()).as(test.out() + test.err()).isZero();
    assertThat(test.out()).contains("SUCCESS");

    // every alert has a case where it fires and one where it does not
    Set<String> firing = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (JsonNode group : YAML.readTree(UNIT_TESTS.toFile()).path("tests")) {
      for (JsonNode eval : group.path("alert_rule_test")) {
        (eval.path("exp_alerts").isEmpty() ? quiet : firing).add(eval.path("alertname").asText());
      }
    }
    assertThat(firing).as("alerts with a firing case").containsExactlyInAnyOrderElementsOf(ALERTS);
    assertThat(quiet).as("alerts with a quiet case").containsExactlyInAnyOrderElementsOf(ALERTS);
    JsonNode rules = YAML.readTree(RULES.toFile()).path("groups").get(0).path("rules");
    List<String> names = new ArrayList<>();
    rules.forEach(r -> names.add(r.path("alert").asText()));
    assertThat(names).containsExactlyElementsOf(ALERTS);
  }

  @Test
  void thePrometheusRuleTheRulesConfigMapAndThePlainFileAreOneSetOfRules() throws Exception {
    JsonNode plain = YAML.readTree(RULES.toFile()).path("groups");
    for (Map.Entry<String, JsonNode> rendered : renderedGroups().entrySet()) {
      assertThat(rendered.getValue())
          .as(
              "%s of the chart's defaults differs from %s: render it again (the command is in its"
                  + " header)",
              rendered.getKey(), RULES)
          .isEqualTo(plain);
    }
    // nothing is rendered unless asked for
    List<JsonNode> defaults = ChartTest.render();
    assertThat(ChartTest.ofKind(defaults, "PrometheusRule")).isEmpty();
    assertThat(ChartTest.ofKind(defaults, "ConfigMap")).isEmpty();
  }

  @Test
  void theThresholdsSeveritiesAndLabelsAreValues() throws Exception {
    Map<String, JsonNode> rendered =
        renderedGroups(
            "--set", "alerts.rolloutHeld.longerThanSeconds=3600",
            "--set", "alerts.migrationStalled.for=1m",
            "--set", "alerts.migrationStalled.severity=critical",
            "--set", "alerts.driftChecksFailing.failuresInARow=5",
            "--set-json", "alerts.webhookSlow.p99Seconds=1.5",
            "--set", "alerts.reconcileErrors.perFifteenMinutes=20",
            "--set", "alerts.labels.team=databases",
            "--set", "alerts.runbookUrl=https://wiki.example.com/schemagate");
    for (JsonNode groups : rendered.values()) {
      assertThat(rule(groups, "SchemagateRolloutHeldTooLong").path("expr").asText())
          .endsWith("> 3600");
      JsonNode stalled = rule(groups, "SchemagateMigrationStalled");
      assertThat(stalled.path("for").asText()).isEqualTo("1m");
      assertThat(stalled.at("/labels/severity").asText()).isEqualTo("critical");
      assertThat(rule(groups, "SchemagateDriftChecksFailing").path("expr").asText())
          .endsWith(">= 5");
      assertThat(rule(groups, "SchemagateWebhookSlow").path("expr").asText()).endsWith("> 1.5");
      assertThat(rule(groups, "SchemagateReconcileErrors").path("expr").asText()).endsWith("> 20");
      for (String alert : ALERTS) {
        assertThat(rule(groups, alert).at("/labels/team").asText())
            .as(alert)
            .isEqualTo("databases");
        assertThat(rule(groups, alert).at("/annotations/runbook_url").asText())
            .isEqualTo("https://wiki.example.com/schemagate#" + alert.toLowerCase());
      }
    }
    Tools.Result wrong =
        Tools.helm(
            "template",
            "sg",
            Tools.released().toString(),
            "--set",
            "alerts.noLeader.for=two minutes");
    assertThat(wrong.exit()).isNotZero();
    assertThat(wrong.err())
        .contains("'/alerts/noLeader/for': 'two minutes' does not match pattern");
  }

  @Test
  void theDashboardConfigMapCarriesTheDashboardForGrafanasSidecar() throws Exception {
    List<JsonNode> docs =
        ChartTest.render(
            "--set",
            "metrics.dashboard.enabled=true",
            "--set",
            "metrics.dashboard.annotations.grafana_folder=Databases");
    JsonNode configMap =
        ChartTest.ofKind(docs, "ConfigMap").stream()
            .filter(c -> c.at("/metadata/name").asText().endsWith("-dashboard"))
            .findFirst()
            .orElseThrow();
    assertThat(configMap.at("/metadata/labels/grafana_dashboard").asText()).isEqualTo("1");
    assertThat(configMap.at("/metadata/annotations/grafana_folder").asText())
        .isEqualTo("Databases");
    assertThat(JSON.readTree(configMap.at("/data/schemagate.json").asText()))
        .isEqualTo(JSON.readTree(DASHBOARD.toFile()));
  }

  /** Every query of the dashboard, by panel title, with Grafana's variables as written. */
  static Map<String, String> dashboardQueries() throws IOException {
    Map<String, String> queries = new LinkedHashMap<>();
    for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).path("panels")) {
      JsonNode targets = panel.path("targets");
      for (int i = 0; i < targets.size(); i++) {
        String key = panel.path("title").asText() + (targets.size() > 1 ? " #" + (i + 1) : "");
        queries.put(key, targets.get(i).path("expr").asText());
      }
    }
    return queries;
  }

  @Test
  void theListOfTheDashboardsQueriesIsTheDashboards() throws Exception {
    StringBuilder expected =
        new StringBuilder(
            "# The dashboard's queries (dashboard.json), one a line: the panel, a tab, the query.\n"
                + "# Made from dashboard.json and checked equal to it by the chart's MonitoringTest;\n"
                + "# the end-to-end suite runs each against a real Prometheus ($__rate_interval as\n"
                + "# 1m, $__range as 1h).\n");
    dashboardQueries().forEach((k, v) -> expected.append(k).append('\t').append(v).append('\n'));
    Path made = Path.of("target", "dashboard-queries.txt");
    Files.writeString(made, expected);
    assertThat(Files.readString(QUERIES))
        .as("%s differs from dashboard.json: cp charts/%s %s", QUERIES, made, QUERIES)
        .isEqualTo(expected.toString());
  }

  @Test
  void everyQueryParsesAndReadsOnlySeriesTheOperatorExports() throws Exception {
    Set<String> exported = new TreeSet<>();
    for (String line : Files.readAllLines(MONITORING.resolve("metrics.txt"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        exported.add(line.trim().split("\\s+")[0]);
      }
    }
    Map<String, String> queries = new LinkedHashMap<>();
    dashboardQueries().forEach((k, v) -> queries.put("dashboard: " + k, grafanaToPromQl(v)));
    for (JsonNode rule : YAML.readTree(RULES.toFile()).path("groups").get(0).path("rules")) {
      queries.put("alert: " + rule.path("alert").asText(), rule.path("expr").asText());
    }
    assertThat(dashboardQueries()).hasSizeGreaterThanOrEqualTo(20);

    // parsed by promtool, each as a recording rule
    StringBuilder rules = new StringBuilder("groups:\n- name: queries\n  rules:\n");
    int i = 0;
    for (String query : queries.values()) {
      rules
          .append("  - record: query_")
          .append(++i)
          .append("\n    expr: ")
          .append(JSON.writeValueAsString(query))
          .append('\n');
    }
    Path file = Path.of("target", "queries.rules.yaml").toAbsolutePath();
    Files.writeString(file, rules);
    Tools.Result check = Tools.promtool("check", "rules", file.toString());
    assertThat(check.exit()).as(check.out() + check.err()).isZero();
    assertThat(check.out()).contains("SUCCESS: " + queries.size() + " rules found");

    Map<String, Set<String>> unknown = new LinkedHashMap<>();
    queries.forEach(
        (name, query) -> {
          Set<String> read = metricNames(query);
          assertThat(read).as("%s reads some series: %s", name, query).isNotEmpty();
          read.removeAll(exported);
          if (!read.isEmpty()) {
            unknown.put(name, read);
          }
        });
    assertThat(unknown).as("queries reading series the operator does not export").isEmpty();
  }

  @Test
  void theMetricNameReaderFindsTheSeriesAndNothingElse() {
    assertThat(
            metricNames(
                "histogram_quantile(0.99, sum by (le, result) (rate(a_bucket{result!=\"error\",x=~\"b|c\"}[5m])))"
                    + " > 1e3 or absent(b_total offset 5m) and on (namespace) group_left(name) c"
                    + " unless sum(d) by (job) / ignoring(pod) e:recorded"))
        .containsExactlyInAnyOrder("a_bucket", "b_total", "c", "d", "e:recorded");
  }

  /** Grafana's interval variables as the query would be sent; any other variable is an error. */
  static String grafanaToPromQl(String query) {
    String promql =
        query
            .replace("$__rate_interval", "1m")
            .replace("$__range", "1h")
            .replace("$__interval", "1m");
    assertThat(promql)
        .as("a variable the dashboard does not define: %s", query)
        .doesNotContain("$");
    return promql;
  }

  static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
  static final Pattern MATCHERS = Pattern.compile("\\{[^}]*\\}");
  static final Pattern RANGES = Pattern.compile("\\[[^\\]]*\\]");
  static final Pattern GROUPING =
      Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  static final Pattern IDENTIFIER =
      Pattern.compile("(?<![A-Za-z0-9_.:])([A-Za-z_:][A-Za-z0-9_:]*)(\\s*\\()?");
  static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "bool",
          "offset",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "inf",
          "nan",
          "Inf",
          "NaN");

  /**
   * The series names a PromQL expression reads: its identifiers that are not functions,
   * aggregations, keywords, label names (in matchers and groupings) or durations.
   */
  static Set<String> metricNames(String query) {
    String bare = STRING.matcher(query).replaceAll("\"\"");
    bare = MATCHERS.matcher(bare).replaceAll(" ");
    bare = RANGES.matcher(bare).replaceAll(" ");
    bare = GROUPING.matcher(bare).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENTIFIER.matcher(bare);
    while (m.find()) {
      if (m.group(2) == null && !KEYWORDS.contains(m.group(1))) {
        names.add(m.group(1));
      }
    }
    return names;
  }
}
