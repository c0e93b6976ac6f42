package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Phase;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The running operator's /metrics, as Prometheus scrapes it: after a reconcile that failed once (a
 * conflict on its status write) and a DatabaseMigration migrating with its app held, every series
 * of the operator SDK's that charts/schemagate/monitoring/metrics.txt names is there with its
 * labels, and schemagate's own are named as {@link ExportedMetricsTest} scrapes them.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class MetricsEndpointTest extends ReconcilerTestBase {
  @KubernetesTestServer KubernetesServer server;

  @TestHTTPResource("/metrics")
  URL metrics;

  String scrape() throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(metrics.toString())).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  @Test
  void theSeriesTheAlertsAndTheDashboardReadAreOnMetrics() throws Exception {
    server
        .expect()
        .put()
        .withPath(
            "/apis/schemagate.dev/v1alpha1/namespaces/" + ns + "/databasemigrations/orders/status")
        .andReturn(
            409,
            new StatusBuilder()
                .withStatus("Failure")
                .withCode(409)
                .withReason("Conflict")
                .withMessage("the object has been modified")
                .build())
        .once();
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", IMAGE_1, "3", "orders-api"));
    awaitSingleJob();
    awaitPhase("orders", Phase.Migrating);

    // the metrics are recorded once the reconcile's writes are made: a moment after the status
    String scraped =
        eventually()
            .until(
                this::scrape,
                text ->
                    Pattern.compile("schemagate_migrations\\{phase=\"Migrating\",?\\} [1-9]")
                            .matcher(text)
                            .find()
                        && text.contains(
                            "schemagate_rollout_held_since_timestamp_seconds{name=\"orders\",namespace=\""
                                + ns
                                + "\""));
    Map<String, TreeSet<String>> exported = ExportedMetricsTest.samples(scraped);
    ExportedMetricsTest.listed()
        .forEach(
            (name, labels) -> {
              if (!name.startsWith("schemagate_")) {
                assertThat(exported)
                    .as("%s names %s, which /metrics does not have", ExportedMetricsTest.LIST, name)
                    .containsKey(name);
                assertThat(String.join(",", exported.get(name))).as(name).isEqualTo(labels);
              }
            });
    assertThat(scraped)
        .contains(
            "operator_sdk_controllers_execution_reconcile_failure_total{controller=\"databasemigration\",")
        .contains("schemagate_leader 1.0")
        .containsPattern("schemagate_migrations\\{phase=\"Migrating\",?\\} [1-9]")
        .containsPattern(
            "schemagate_rollout_held_since_timestamp_seconds\\{name=\"orders\",namespace=\""
                + ns
                + "\",?\\} [0-9.E]+");
  }
}
