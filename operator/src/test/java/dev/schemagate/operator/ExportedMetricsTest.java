package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.kube.AdmissionWebhook;
import dev.schemagate.operator.status.Measurements;
import dev.schemagate.operator.status.MigrationMetrics;
import dev.schemagate.operator.status.MigrationState;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The metrics the alerts and the dashboard are made of, as Prometheus reads them: every meter of
 * schemagate's own, made once (a run of each outcome, a hold, a gate, a drift, the webhook, the
 * leader) in the Prometheus registry /metrics serves, then scraped. The list
 * charts/schemagate/monitoring/metrics.txt, which the chart's tests hold every alert and dashboard
 * query to, must be exactly what is scraped of schemagate's own; {@link MetricsEndpointTest} checks
 * the operator SDK's it names on the running operator's /metrics.
 */
class ExportedMetricsTest {
  static final Path LIST =
      Path.of("..", "charts", "schemagate", "monitoring", "metrics.txt").toAbsolutePath();
  static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{([^}]*)\\})? ", Pattern.MULTILINE);
  static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"");

  @Test
  void theListOfExportedMetricsIsWhatTheOperatorExports() throws IOException {
    String scraped = scrapeEverything();
    Map<String, TreeSet<String>> exported = samples(scraped);
    Map<String, String> listed = listed();

    Map<String, String> ours = new TreeMap<>();
    exported.forEach(
        (name, labels) -> {
          if (name.startsWith("schemagate_")) {
            ours.put(name, String.join(",", labels));
          }
        });
    Map<String, String> listedOurs = new TreeMap<>(listed);
    listedOurs.keySet().removeIf(n -> !n.startsWith("schemagate_"));
    assertThat(listedOurs)
        .as(
            "%s lists schemagate's metrics as scraped (name, then its labels); scraped:%n%s",
            LIST, format(ours))
        .isEqualTo(ours);
  }

  /** Everything that makes a series of schemagate's own, once. */
  static String scrapeEverything() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MigrationMetrics metrics = new MigrationMetrics(registry);
    Instant now = Instant.parse("2026-12-07T10:00:00Z");
    DatabaseMigration orders = migration("shop", "orders", IMAGE_1, "3", "orders-api");
    Measurements measured = new Measurements();
    measured.runFinished(
        Direction.UPGRADE, Outcome.Succeeded, "MigrationSucceeded", Duration.ofSeconds(4));
    measured.runFinished(
        Direction.UPGRADE, Outcome.Failed, "MigrationFailed", Duration.ofSeconds(2));
    measured.podReleased(Duration.ofMillis(300));
    measured.driftChecked(CheckOutcome.Drifted);
    measured.composed(
        new MigrationState(
            Phase.Failed, "MigrationFailed", now.minusSeconds(60), 2, "DriftDetected", 3));
    metrics.record(orders, measured, now);
    // another one's hold ends: how long it lasted is observed
    DatabaseMigration payments = migration("shop", "payments", IMAGE_1, "3", "payments-api");
    Measurements held = new Measurements();
    held.composed(new MigrationState(Phase.Migrating, null, now.minusSeconds(5), 1, null, 0));
    metrics.record(payments, held, now.minusSeconds(1));
    Measurements released = new Measurements();
    released.composed(new MigrationState(Phase.Ready, null, null, 0, null, 0));
    metrics.record(payments, released, now);

    Leadership leadership =
        new Leadership(null, "schemagate-operator", Optional.of("ops"), "pod_1", code -> {});
    leadership.exportTo(registry);
    AdmissionWebhook.requests(registry, "gated").record(Duration.ofMillis(3));
    AdmissionWebhook.requests(registry, "error").record(Duration.ofMillis(1));

    return registry.scrape();
  }

  /** Sample names and their label names (le and quantile left out). */
  static Map<String, TreeSet<String>> samples(String scraped) {
    Map<String, TreeSet<String>> samples = new TreeMap<>();
    Matcher sample = SAMPLE.matcher(scraped);
    while (sample.find()) {
      TreeSet<String> labels = samples.computeIfAbsent(sample.group(1), n -> new TreeSet<>());
      if (sample.group(2) != null) {
        Matcher label = LABEL.matcher(sample.group(2));
        while (label.find()) {
          if (!label.group(1).equals("le")) {
            labels.add(label.group(1));
          }
        }
      }
    }
    return samples;
  }

  static Map<String, String> listed() throws IOException {
    Map<String, String> listed = new TreeMap<>();
    for (String line : Files.readAllLines(LIST)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.trim().split("\\s+");
      listed.put(parts[0], parts.length > 1 ? parts[1] : "");
    }
    return listed;
  }

  static String format(Map<String, String> metrics) {
    StringBuilder out = new StringBuilder();
    metrics.forEach(
        (name, labels) ->
            out.append(name).append(labels.isEmpty() ? "" : " " + labels).append('\n'));
    return out.toString();
  }
}
