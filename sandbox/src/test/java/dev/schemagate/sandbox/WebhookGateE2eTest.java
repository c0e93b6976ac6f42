package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The admission gate through the operator's webhook (gate.admission.via=webhook), with two
 * replicas, on a control plane of its own. Every replica answers the webhook from its own cache, so
 * "the operator stopped" here is its leader stopped: the other replica still answers, and takes
 * over the reconciling within the Lease duration. (With every replica down, the webhook's
 * failurePolicy decides: Fail, the chart's default, refuses the pods that name a DatabaseMigration
 * until a replica is back.)
 */
@ExtendWith(E2e.Reporter.class)
@Tag("own-sandbox")
class WebhookGateE2eTest extends AdmissionGateScenarios {
  static Sandbox sandbox;
  static ChartOperator operator;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "admission needs the real control plane");
    Path work = E2e.HOME.resolve("sandbox/target/e2e-webhook");
    Demo.clean(work);
    sandbox =
        Sandbox.start(
                E2e.HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), Sandbox.Kind.REAL)
            .operatorReplicas(2)
            .operatorValue("gate.admission.via", "webhook");
    operator = (ChartOperator) sandbox.startOperator();
    assertThat(
            sandbox
                .client()
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("schemagate-rollout-gate")
                .get())
        .as("the chart installed the webhook")
        .isNotNull();
    assertThat(
            sandbox
                .client()
                .genericKubernetesResources(
                    "admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                .withName("schemagate-rollout-gate")
                .get())
        .isNull();
  }

  @AfterAll
  static void stop() throws Exception {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  /**
   * helm upgrade --reuse-values, as a values-only upgrade or a GitOps sync does it: the Lease keeps
   * its holder all along (the chart renders no Lease to reset to free), no replica restarts, and
   * the webhook keeps its CA (the chart looks its Secret up and keeps it).
   */
  @Test
  void helmUpgradeWithTheSameValuesChangesNoLeaderAndRestartsNothing() throws Exception {
    KubernetesClient client = sandbox.client();
    String ns = ChartOperator.NAMESPACE;
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                operator.pods().stream()
                        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                        .filter(WebhookGateE2eTest::ready)
                        .count()
                    == 2);
    operator.awaitLeader(Duration.ofSeconds(90));
    Lease before = client.leases().inNamespace(ns).withName(ChartOperator.LEASE).get();
    String leader = before.getSpec().getHolderIdentity();
    Map<String, Integer> pods = restarts();
    String caBundle = caBundle(client);
    String tls =
        client
            .secrets()
            .inNamespace(ns)
            .withName("schemagate-webhook-tls")
            .get()
            .getData()
            .toString();
    long generation =
        client
            .apps()
            .deployments()
            .inNamespace(ns)
            .withName("schemagate")
            .get()
            .getMetadata()
            .getGeneration();
    List<String> holders = Collections.synchronizedList(new ArrayList<>());
    try (Watch watch =
        client
            .leases()
            .inNamespace(ns)
            .withName(ChartOperator.LEASE)
            .watch(
                new Watcher<Lease>() {
                  @Override
                  public void eventReceived(Action action, Lease lease) {
                    holders.add(
                        action
                            + " "
                            + (lease.getSpec() == null
                                ? null
                                : lease.getSpec().getHolderIdentity()));
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      Instant start = Instant.now();
      operator
          .helm()
          .run(
              "upgrade",
              ChartOperator.RELEASE,
              ChartOperator.chartReference(),
              "--version",
              ChartOperator.chartVersion(sandbox.home),
              "--namespace",
              ns,
              "--reuse-values",
              "--plain-http",
              "--wait",
              "--timeout",
              "3m");
      System.out.printf(
          "helm upgrade --reuse-values took %d ms%n",
          Duration.between(start, Instant.now()).toMillis());
      // two renewals of the leader: a Lease the upgrade had freed would show in between
      Thread.sleep(Duration.ofSeconds(5).toMillis());
    }
    assertThat(holders)
        .as("every change of the Lease during and after the upgrade keeps its holder")
        .allSatisfy(h -> assertThat(h).endsWith(" " + leader));
    Lease after = client.leases().inNamespace(ns).withName(ChartOperator.LEASE).get();
    assertThat(after.getSpec().getHolderIdentity()).isEqualTo(leader);
    assertThat(after.getSpec().getLeaseTransitions())
        .isEqualTo(before.getSpec().getLeaseTransitions());
    assertThat(restarts()).as("the same pods, none restarted").isEqualTo(pods);
    assertThat(
            client
                .apps()
                .deployments()
                .inNamespace(ns)
                .withName("schemagate")
                .get()
                .getMetadata()
                .getGeneration())
        .as("the operator's Deployment unchanged")
        .isEqualTo(generation);
    assertThat(caBundle(client)).as("the webhook's CA").isEqualTo(caBundle);
    assertThat(
            client
                .secrets()
                .inNamespace(ns)
                .withName("schemagate-webhook-tls")
                .get()
                .getData()
                .toString())
        .as("the webhook's certificate")
        .isEqualTo(tls);
  }

  static boolean ready(Pod pod) {
    return pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The release's pods by uid, with their container restarts. */
  Map<String, Integer> restarts() {
    return operator.pods().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .collect(
            Collectors.toMap(
                p -> p.getMetadata().getName() + "/" + p.getMetadata().getUid(),
                p ->
                    p.getStatus().getContainerStatuses().stream()
                        .mapToInt(c -> c.getRestartCount())
                        .sum()));
  }

  static String caBundle(KubernetesClient client) {
    return client
        .admissionRegistration()
        .v1()
        .mutatingWebhookConfigurations()
        .withName("schemagate-rollout-gate")
        .get()
        .getWebhooks()
        .get(0)
        .getClientConfig()
        .getCaBundle();
  }

  @Override
  Sandbox sandbox() {
    return sandbox;
  }

  @Override
  void stopOperator() throws Exception {
    String leader = operator.leader();
    sandbox
        .client()
        .pods()
        .inNamespace(ChartOperator.NAMESPACE)
        .withName(leader)
        .withGracePeriod(0)
        .delete();
  }

  @Override
  void startOperator() throws Exception {
    operator.awaitLeader(java.time.Duration.ofSeconds(90));
  }
}
