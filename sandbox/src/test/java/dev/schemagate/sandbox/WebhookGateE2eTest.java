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
            .operatorValue("gate.admission.via", "webhook")
            .operatorValue("gate.liftAllowedGroups", "{" + E2e.BREAK_GLASS + "}");
    operator = (ChartOperator) sandbox.startOperator();
    E2e.assertGateIsTheWebhook(sandbox);
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

  /** How long the webhook stays unreachable before a replica comes back (-D to change). */
  static final Duration OUTAGE =
      Duration.ofSeconds(Long.getLong("schemagate.e2e.webhookOutageSeconds", 180));

  /**
   * Issue 26, item 6: with every replica down, the webhook's failurePolicy Fail refuses the pods a
   * rollout's ReplicaSet creates, and the ReplicaSet controller backs off (its workqueue's rate
   * limiter: 5 ms doubling to 1,000 s). Once a replica is Ready again, the pods are made within a
   * minute: the operator nudges the ReplicaSets whose pods were refused, which an update enqueues
   * at once. Without the nudge they came only at the controller's next retry (measured: see the
   * printed line).
   */
  @Test
  void labelledPodsReturnWithinAMinuteOfAReplicaBeingReady() throws Exception {
    KubernetesClient client = sandbox.client();
    operator.kill();
    try {
      Instant restart = Instant.now();
      kubectl("rollout", "restart", "deployment/orders-api");
      // the new ReplicaSet is made; its pods are refused (no endpoint answers the webhook)
      E2e.eventually().until(() -> newReplicaSet(client) != null);
      String hash = newReplicaSet(client);
      E2e.eventually()
          .until(
              () ->
                  world.events().stream()
                      .anyMatch(
                          e ->
                              "FailedCreate".equals(e.getReason())
                                  && e.getInvolvedObject().getName().endsWith(hash)));
      Thread.sleep(OUTAGE.toMillis());
      assertThat(podsOf(client, hash)).as("no pod while no replica answers").isEmpty();
      System.out.printf(
          "ReplicaSet orders-api-%s: pods refused for %d s; FailedCreate events: %s%n",
          hash,
          Duration.between(restart, Instant.now()).toSeconds(),
          world.events().stream()
              .filter(e -> "FailedCreate".equals(e.getReason()))
              .map(e -> e.getCount() + "x " + e.getLastTimestamp())
              .toList());
    } finally {
      operator.scale(2);
    }
    String hash = newReplicaSet(client);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(180))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> operator.pods().stream().anyMatch(WebhookGateE2eTest::ready));
    Instant ready = Instant.now();
    Instant back = null;
    while (Duration.between(ready, Instant.now()).compareTo(Duration.ofSeconds(1200)) < 0) {
      if (!podsOf(client, hash).isEmpty()) {
        back = Instant.now();
        break;
      }
      Thread.sleep(200);
    }
    assertThat(back).as("the ReplicaSet's pods within 20 minutes").isNotNull();
    Duration took = Duration.between(ready, back);
    System.out.printf(
        "pods of orders-api-%s made %d ms after the first replica was Ready%n",
        hash, took.toMillis());
    assertThat(took).as("pods made after a replica was Ready").isLessThan(Duration.ofSeconds(60));
    startOperator();
    awaitRolledOut(1);
  }

  /** The pod-template-hash of orders-api's newest ReplicaSet, or null. */
  String newReplicaSet(KubernetesClient client) {
    return client.apps().replicaSets().inNamespace(world.ns).list().getItems().stream()
        .filter(r -> r.getMetadata().getName().startsWith("orders-api-"))
        .filter(
            r ->
                r.getMetadata().getAnnotations() != null
                    && r.getMetadata().getAnnotations().get("deployment.kubernetes.io/revision")
                        != null)
        .max(
            java.util.Comparator.comparingInt(
                r ->
                    Integer.parseInt(
                        r.getMetadata().getAnnotations().get("deployment.kubernetes.io/revision"))))
        .filter(
            r ->
                !"1"
                    .equals(
                        r.getMetadata().getAnnotations().get("deployment.kubernetes.io/revision")))
        .map(r -> r.getMetadata().getLabels().get("pod-template-hash"))
        .orElse(null);
  }

  List<Pod> podsOf(KubernetesClient client, String hash) {
    return client
        .pods()
        .inNamespace(world.ns)
        .withLabel("pod-template-hash", hash)
        .list()
        .getItems();
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
