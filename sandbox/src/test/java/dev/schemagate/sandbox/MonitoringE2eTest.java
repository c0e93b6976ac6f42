package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.sandbox.cluster.Daemon;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chart's monitoring against a real Prometheus (.tools/bin/prometheus) that scrapes the
 * operator through the chart's metrics Service (port http-metrics, honor_labels as the chart's
 * ServiceMonitor sets it) every 2 s and evaluates the rules file the chart installs as a ConfigMap
 * (metrics.rulesConfigMap). A migration whose SQL fails makes SchemagateMigrationStalled fire,
 * labelled with the DatabaseMigration's namespace, name and Stalled reason; every query of the
 * dashboard (charts/schemagate/monitoring/dashboard-queries.txt) returns series for the run; every
 * alert the run causes fires, and none other.
 *
 * <p>The run: {@code orders} succeeds, holding one app at admission (its pods wait at the
 * scheduling gate of the operator's webhook, gate.admission.via=webhook) and one paused (no label:
 * held as in Pause mode), then checks drift every 5 s and finds an ALTER TABLE made by hand; {@code
 * payments} fails on its V2 (a syntax error) with its app's pods at the gate, and fails again on a
 * retry (schemagate.dev/retry), as the runbook says to do once the cause is fixed; {@code
 * inventory} succeeds in Pause mode, then its drift checks fail (its Secret names a database that
 * does not exist); {@code unwritable} has its status refused by a ValidatingAdmissionPolicy, so its
 * reconciles fail. The alerts' thresholds are lowered through the chart's own values ({@link
 * #ALERT_VALUES}: every for to 0s, the others to their least) so that they fire within the test;
 * the rules themselves are the chart's, unedited.
 */
@ExtendWith(E2e.Reporter.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("own-sandbox")
class MonitoringE2eTest {
  /** The chart values of the run: its alerts at the least thresholds, its rules as a ConfigMap. */
  static final Map<String, String> ALERT_VALUES =
      Map.of(
          "alerts.migrationStalled.for", "0s",
          "alerts.podsAtGate.for", "0s",
          "alerts.driftDetected.for", "0s",
          "alerts.driftChecksFailing.failuresInARow", "2",
          "alerts.rolloutHeld.longerThanSeconds", "1",
          "alerts.reconcileErrors.perFifteenMinutes", "0",
          "alerts.reconcileErrors.for", "0s");

  /** How often Prometheus scrapes and evaluates. */
  static final String INTERVAL = "2s";

  /** What the dashboard's Grafana variables stand for here (the file's header says so). */
  static final Map<String, String> GRAFANA_VARIABLES =
      Map.of("$__rate_interval", "1m", "$__range", "1h");

  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static Sandbox sandbox;
  static Daemon prometheus;
  static URI prometheusUrl;
  static String good;
  static String failing;

  /** The run's world, made by the first test, read by the next ones. */
  static E2e run;

  E2e world;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "the chart needs the real control plane");
    Path work = E2e.HOME.resolve("sandbox/target/e2e-monitoring");
    Demo.clean(work);
    sandbox =
        Sandbox.start(
                E2e.HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), Sandbox.Kind.REAL)
            .operatorValue("gate.admission.via", "webhook")
            .operatorValue("metrics.rulesConfigMap.enabled", "true");
    ALERT_VALUES.forEach(sandbox::operatorValue);
    sandbox.startOperator();
    good = E2e.runnerImage(sandbox, "e2e/app-user:4", E2e.exampleMigrations());
    failing =
        E2e.runnerImage(
            sandbox,
            "e2e/payments-broken:2",
            Map.of(
                "V1__create_payment.sql",
                "CREATE TABLE payment (id bigint PRIMARY KEY, amount numeric NOT NULL);",
                "V2__add_currency.sql",
                "ALTER TABLE payment ADD COLUMN currency char(3) NOT NULL DEFAUT 'EUR';"));
    startPrometheus(work.resolve("prometheus"));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (prometheus != null) {
        prometheus.close(); // SIGTERM, waited for; SIGKILL after 5 s
      }
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
    }
  }

  static ConditionFactory patiently() {
    return await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500));
  }

  // --- Prometheus

  /**
   * Writes the chart's rules (from the ConfigMap it installed) and a scrape of its metrics Service,
   * starts Prometheus on a free port of 127.0.0.1, and waits until it has scraped the operator.
   */
  static void startPrometheus(Path dir) throws Exception {
    Files.createDirectories(dir);
    Path rules = dir.resolve("schemagate.rules.yaml");
    Files.writeString(rules, rulesFromTheChart());
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, prometheusConfig(metricsTarget(), rules));
    int port;
    try (ServerSocket socket =
        new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = socket.getLocalPort();
    }
    prometheusUrl = URI.create("http://127.0.0.1:" + port);
    prometheus =
        Daemon.start(
            "prometheus",
            List.of(
                E2e.HOME.resolve(".tools/bin/prometheus").toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"),
                "--web.listen-address=127.0.0.1:" + port),
            dir,
            dir.resolve("pids"));
    prometheus.waitUntil("Prometheus is ready", Duration.ofSeconds(60), () -> ok("/-/ready"));
    prometheus.waitUntil(
        "Prometheus scraped the operator",
        Duration.ofSeconds(60),
        () -> {
          try {
            return query("schemagate_leader == 1").size() == 1;
          } catch (Exception e) {
            return false;
          }
        });
    JsonNode groups = api("/api/v1/rules").path("groups");
    List<String> loaded = new ArrayList<>();
    groups.forEach(g -> g.path("rules").forEach(r -> loaded.add(r.path("name").asText())));
    System.out.println("Prometheus at " + prometheusUrl + " evaluates " + loaded);
    assertThat(loaded).as("the chart's rules, loaded").contains("SchemagateMigrationStalled");
  }

  /** The rules file the chart installed (metrics.rulesConfigMap), with the run's thresholds. */
  static String rulesFromTheChart() {
    var configMap =
        sandbox
            .client()
            .configMaps()
            .inNamespace(ChartOperator.NAMESPACE)
            .withName(ChartOperator.RELEASE + "-rules")
            .get();
    assertThat(configMap).as("the chart's rules ConfigMap").isNotNull();
    String rules = configMap.getData().get("schemagate.rules.yaml");
    assertThat(rules).contains("alert: SchemagateMigrationStalled", "for: 0s");
    return rules;
  }

  /**
   * The chart's metrics Service, as host:port on its ClusterIP: the Service and port the chart's
   * ServiceMonitor names.
   */
  static String metricsTarget() {
    Service service =
        sandbox
            .client()
            .services()
            .inNamespace(ChartOperator.NAMESPACE)
            .withName(ChartOperator.RELEASE + "-metrics")
            .get();
    assertThat(service).as("the chart's metrics Service").isNotNull();
    ServicePort port =
        service.getSpec().getPorts().stream()
            .filter(p -> "http-metrics".equals(p.getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no port http-metrics on " + service));
    return service.getSpec().getClusterIP() + ":" + port.getPort();
  }

  /**
   * Scrapes the Service as the chart's ServiceMonitor has the Prometheus Operator do: job named
   * after the Service, its namespace as a target label, the operator's own namespace and name
   * labels honored (they name the DatabaseMigration a series is about).
   */
  static String prometheusConfig(String target, Path rules) {
    return String.join(
        "\n",
        "global:",
        "  scrape_interval: " + INTERVAL,
        "  scrape_timeout: " + INTERVAL,
        "  evaluation_interval: " + INTERVAL,
        "rule_files:",
        "- " + rules,
        "scrape_configs:",
        "- job_name: " + ChartOperator.RELEASE + "-metrics",
        "  metrics_path: /metrics",
        "  honor_labels: true",
        "  static_configs:",
        "  - targets: ['" + target + "']",
        "    labels:",
        "      namespace: " + ChartOperator.NAMESPACE,
        "      service: " + ChartOperator.RELEASE + "-metrics",
        "");
  }

  static boolean ok(String path) {
    try {
      return HTTP.send(
                  HttpRequest.newBuilder(prometheusUrl.resolve(path))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (Exception e) {
      return false;
    }
  }

  /** The data of an answer of Prometheus's API; fails on any other status. */
  static JsonNode api(String pathAndQuery) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(prometheusUrl.resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = JSON.readTree(response.body());
    assertThat(body.path("status").asText())
        .as("%s: %s", pathAndQuery, response.body())
        .isEqualTo("success");
    return body.path("data");
  }

  /** An instant query's series (a vector's elements). */
  static List<JsonNode> query(String promql) throws Exception {
    JsonNode data = api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    List<JsonNode> series = new ArrayList<>();
    if ("vector".equals(data.path("resultType").asText())) {
      data.path("result").forEach(series::add);
    }
    return series;
  }

  /** The alerts Prometheus holds firing now. */
  static List<JsonNode> firing() throws Exception {
    List<JsonNode> alerts = new ArrayList<>();
    api("/api/v1/alerts")
        .path("alerts")
        .forEach(
            a -> {
              if ("firing".equals(a.path("state").asText())) {
                alerts.add(a);
              }
            });
    return alerts;
  }

  /** The firing alert of that name whose labels hold these, if any. */
  static JsonNode firing(String alert, Map<String, String> labels) throws Exception {
    for (JsonNode a : firing()) {
      JsonNode l = a.path("labels");
      if (alert.equals(l.path("alertname").asText())
          && labels.entrySet().stream()
              .allMatch(e -> e.getValue().equals(l.path(e.getKey()).asText()))) {
        return a;
      }
    }
    return null;
  }

  /** The dashboard's queries, panel by panel (its Grafana variables given their values here). */
  static Map<String, String> dashboardQueries() throws Exception {
    Map<String, String> queries = new LinkedHashMap<>();
    for (String line :
        Files.readAllLines(
            E2e.HOME.resolve("charts/schemagate/monitoring/dashboard-queries.txt"))) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int tab = line.indexOf('\t');
      String query = line.substring(tab + 1);
      for (var v : GRAFANA_VARIABLES.entrySet()) {
        query = query.replace(v.getKey(), v.getValue());
      }
      queries.put(line.substring(0, tab), query);
    }
    return queries;
  }

  // --- the run

  /** An app of one replica; with {@code migration}, its pods name it (held at admission). */
  void app(String name, String migration) throws Exception {
    String image = "shop/" + name + ":1";
    sandbox.idleImage(image);
    Deployment d =
        E2e.deployment(name, new ContainerBuilder().withName("app").withImage(image).build());
    d.getSpec().setReplicas(1);
    if (migration != null) {
      d.getSpec()
          .getTemplate()
          .getMetadata()
          .getLabels()
          .put("schemagate.dev/migration", migration);
    }
    world.client().apps().deployments().inNamespace(world.ns).resource(d).create();
  }

  /** A database of the run's own, and a Secret that names it. */
  String database(String suffix, String secret) throws Exception {
    String name = world.database + "_" + suffix;
    sandbox.database.create(name);
    world.secret(secret, sandbox.database.url(name));
    return name;
  }

  /** The Secret's DATABASE_URL, changed by hand. */
  void changeSecret(String secret, String url) {
    world
        .client()
        .secrets()
        .inNamespace(world.ns)
        .withName(secret)
        .edit(
            s -> {
              s.getData()
                  .put(
                      "DATABASE_URL",
                      Base64.getEncoder().encodeToString(url.getBytes(StandardCharsets.UTF_8)));
              return s;
            });
  }

  /** Runs the same spec again, as the runbook says (schemagate.dev/retry, a new value). */
  void retry(String name) {
    Demo.retryOnConflict(
        () ->
            world
                .dbm(name)
                .edit(
                    d -> {
                      if (d.getMetadata().getAnnotations() == null) {
                        d.getMetadata().setAnnotations(new HashMap<>());
                      }
                      d.getMetadata()
                          .getAnnotations()
                          .put("schemagate.dev/retry", Instant.now().toString());
                      return d;
                    }));
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> driftCheck(String name) {
    Object drift = world.status(name).get("drift");
    Object check = drift == null ? null : ((Map<String, Object>) drift).get("check");
    return check == null ? Map.of() : (Map<String, Object>) check;
  }

  /**
   * A ValidatingAdmissionPolicy, and its binding to the run's namespace, that refuses every status
   * write of the DatabaseMigration of that name: the operator's reconciles of it fail (a
   * StatusRejected Event), and are retried with the SDK's backoff.
   */
  void refuseStatusOf(String name) throws Exception {
    String policy = "e2e-refuse-status-" + world.ns;
    Path file = Files.createTempFile(sandbox.work, "policy", ".yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "apiVersion: admissionregistration.k8s.io/v1",
            "kind: ValidatingAdmissionPolicy",
            "metadata: {name: " + policy + "}",
            "spec:",
            "  failurePolicy: Fail",
            "  matchConstraints:",
            "    resourceRules:",
            "    - apiGroups: [schemagate.dev]",
            "      apiVersions: ['*']",
            "      operations: [UPDATE]",
            "      resources: [databasemigrations/status]",
            "  validations:",
            "  - expression: \"object.metadata.name != '" + name + "'\"",
            "    message: the status of " + name + " is refused by a policy of the test",
            "---",
            "apiVersion: admissionregistration.k8s.io/v1",
            "kind: ValidatingAdmissionPolicyBinding",
            "metadata: {name: " + policy + "}",
            "spec:",
            "  policyName: " + policy,
            "  validationActions: [Deny]",
            "  matchResources:",
            "    namespaceSelector:",
            "      matchLabels: {kubernetes.io/metadata.name: " + world.ns + "}",
            ""));
    world.kubectl("apply", "-f", file.toString());
    Thread.sleep(3000); // the API server's policy informer
  }

  @Test
  @Order(1)
  void aMigrationWhoseSqlFailsFiresSchemagateMigrationStalledWithItsNamespaceAndName()
      throws Exception {
    world = new E2e(sandbox).createDatabase();
    run = world;
    // orders: succeeds, one app held at admission and one paused, drift checked every 5 s
    world.secret("orders-db", world.url());
    Map<String, Object> orders = spec(good, "4", "orders-db", "orders-api", "orders-worker");
    orders.put("drift", Map.of("interval", "5s", "onDrift", "Report"));
    world.migration("orders", orders);
    app("orders-api", "orders");
    app("orders-worker", null);
    // inventory: succeeds in Pause mode, drift checked every 5 s
    database("inv", "inventory-db");
    Map<String, Object> inventory = spec(good, "4", "inventory-db");
    inventory.put("gate", Map.of("mode", "Pause", "deployments", List.of("inventory-worker")));
    inventory.put("drift", Map.of("interval", "5s", "onDrift", "Report"));
    world.migration("inventory", inventory);
    app("inventory-worker", null);
    // payments: its V2 fails, its app's pods wait at the gate
    database("pay", "payments-db");
    world.migration("payments", spec(failing, "2", "payments-db", "payments-api"));
    app("payments-api", "payments");

    patiently()
        .until(() -> "Failed".equals(world.phase("payments")) && world.stalled("payments") != null);
    Instant failed = Instant.now();
    String reason = world.stalled("payments");
    assertThat(reason).as("the Stalled reason of a failed SQL").isEqualTo("MigrationFailed");
    Map<String, String> labels =
        Map.of("namespace", world.ns, "name", "payments", "reason", reason);
    patiently().until(() -> firing("SchemagateMigrationStalled", labels) != null);
    JsonNode alert = firing("SchemagateMigrationStalled", labels);
    System.out.printf(
        "SchemagateMigrationStalled firing %d ms after phase Failed was seen: %s%n",
        Duration.between(failed, Instant.now()).toMillis(), alert);
    assertThat(alert.path("labels").path("severity").asText()).isEqualTo("warning");
    assertThat(alert.path("annotations").path("description").asText())
        .contains(world.ns + "/payments", "MigrationFailed");
    assertThat(alert.path("annotations").path("runbook_url").asText())
        .endsWith("#schemagatemigrationstalled");
    assertThat(firing())
        .as("no alert about a DatabaseMigration that did not fail")
        .noneMatch(
            a ->
                "SchemagateMigrationStalled".equals(a.path("labels").path("alertname").asText())
                    && !"payments".equals(a.path("labels").path("name").asText()));
  }

  @Test
  @Order(2)
  void everyDashboardQueryReturnsSeriesForTheRun() throws Exception {
    Assumptions.assumeTrue(run != null, "the run of the first test");
    world = run;
    patiently()
        .until(
            () ->
                "Ready".equals(world.phase("orders")) && "Ready".equals(world.phase("inventory")));

    // payments fails a second time: the counter Prometheus first saw at 1 increases
    patiently().until(() -> !query("schemagate_runs_total{outcome=\"Failed\"}").isEmpty());
    retry("payments");
    patiently()
        .until(
            () ->
                world.history("payments").size() == 2
                    && world.history("payments").stream()
                        .allMatch(h -> "Failed".equals(h.get("outcome"))));

    // orders: a column added by hand, found by its next check
    patiently().until(() -> "NoDrift".equals(driftCheck("orders").get("outcome")));
    world.execute("ALTER TABLE app_user ADD COLUMN nickname text");
    patiently().until(() -> "True".equals(world.condition("orders", "Drifted").get("status")));

    // inventory: its checks cannot reach its database any more
    patiently().until(() -> driftCheck("inventory").get("outcome") != null);
    changeSecret("inventory-db", sandbox.database.url(world.database + "_gone"));
    patiently()
        .until(
            () -> driftCheck("inventory").get("failures") instanceof Number n && n.intValue() >= 2);

    // unwritable: its status is refused, its reconciles fail
    refuseStatusOf("unwritable");
    Map<String, Object> unwritable = spec(good, "4", "orders-db");
    unwritable.put("suspend", true);
    world.migration("unwritable", unwritable);
    patiently().until(() -> !world.events("StatusRejected").isEmpty());

    Map<String, String> queries = dashboardQueries();
    Map<String, Integer> counts = new LinkedHashMap<>();
    try {
      patiently()
          .until(
              () -> {
                for (var q : queries.entrySet()) {
                  counts.put(q.getKey(), query(q.getValue()).size());
                }
                return counts.values().stream().allMatch(n -> n > 0);
              });
    } finally {
      System.out.println("the dashboard's queries against the run, series each:");
      for (var q : queries.entrySet()) {
        System.out.printf(
            "  %3d  %s: %s  %s%n",
            counts.getOrDefault(q.getKey(), -1), q.getKey(), q.getValue(), values(q.getValue()));
      }
    }
    assertThat(counts).as("series per panel").allSatisfy((panel, n) -> assertThat(n).isPositive());
  }

  /** The values of a query's series, for the printout ("NaN" where a rate had nothing). */
  static List<String> values(String promql) {
    try {
      return query(promql).stream().map(s -> s.path("value").path(1).asText()).toList();
    } catch (Exception e) {
      return List.of(e.toString());
    }
  }

  @Test
  @Order(3)
  void everyAlertTheRunCausesFiresAndNoOther() throws Exception {
    Assumptions.assumeTrue(run != null, "the run of the first test");
    world = run;
    Map<String, Map<String, String>> expected = new LinkedHashMap<>();
    expected.put("SchemagateMigrationStalled", Map.of("namespace", world.ns, "name", "payments"));
    expected.put("SchemagatePodsWaitingAtGate", Map.of("namespace", world.ns, "name", "payments"));
    expected.put("SchemagateRolloutHeldTooLong", Map.of("namespace", world.ns, "name", "payments"));
    expected.put("SchemagateDriftDetected", Map.of("namespace", world.ns, "name", "orders"));
    expected.put(
        "SchemagateDriftChecksFailing", Map.of("namespace", world.ns, "name", "inventory"));
    expected.put(
        "SchemagateReconcileErrors",
        Map.of("namespace", ChartOperator.NAMESPACE, "job", ChartOperator.RELEASE + "-metrics"));
    patiently()
        .until(
            () -> {
              for (var e : expected.entrySet()) {
                if (firing(e.getKey(), e.getValue()) == null) {
                  return false;
                }
              }
              return true;
            });
    List<String> fired =
        firing().stream()
            .map(a -> a.path("labels").path("alertname").asText() + " " + a.path("labels"))
            .toList();
    System.out.println("firing:\n  " + String.join("\n  ", fired));
    assertThat(firing())
        .as("nothing fires that the run did not cause: a leader, no webhook error or slowness")
        .allSatisfy(
            a -> assertThat(expected).containsKey(a.path("labels").path("alertname").asText()));
  }
}
