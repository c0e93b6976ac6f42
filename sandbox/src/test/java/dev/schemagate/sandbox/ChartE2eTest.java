package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 * The chart as users install it, on a control plane of its own, and the faults that break the
 * cluster or the operator's replicas: two replicas elect a leader on a Lease they make; a replica
 * stopped (SIGTERM) exits within seconds and hands the Lease over, with the API server up and with
 * it gone; the leader killed (SIGKILL) mid-run is replaced within the Lease duration; the API
 * server and etcd each go away for 30 s mid-run; helm uninstall leaves no object of the release
 * behind (the replicas' Lease stays, and expires). Each prints the times it measured.
 */
@ExtendWith(E2e.Reporter.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("own-sandbox")
class ChartE2eTest {
  /** The operator's Lease duration (the SDK's default) and its retry period. */
  static final Duration LEASE = Duration.ofSeconds(15);

  static final Duration RETRY = Duration.ofSeconds(2);

  /** A retry period with the leader elector's jitter at most (factor 1.2). */
  static final Duration RETRY_WITH_JITTER = RETRY.plus(RETRY.multipliedBy(12).dividedBy(10));

  /** How long after SIGTERM an operator process may still run. */
  static final Duration EXIT_LIMIT = Duration.ofSeconds(5);

  static final Duration OUTAGE = Duration.ofSeconds(30);

  static Sandbox sandbox;
  static ChartOperator operator;
  static String good;
  static String slow;
  E2e world;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "the chart needs the real control plane");
    Path work = E2e.HOME.resolve("sandbox/target/e2e-chart");
    Demo.clean(work);
    sandbox =
        Sandbox.start(
                E2e.HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), Sandbox.Kind.REAL)
            .operatorReplicas(2);
    operator = (ChartOperator) sandbox.startOperator();
    good = E2e.runnerImage(sandbox, "e2e/app-user:4", E2e.exampleMigrations());
    slow =
        E2e.runnerImage(
            sandbox,
            "e2e/slow:2",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE slow_t (id int);",
                "V2__wait.sql",
                "SELECT pg_sleep(8);"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  static org.awaitility.core.ConditionFactory patiently() {
    return await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(100));
  }

  /** Both replicas run and one of them leads. */
  static void awaitTwoReplicasAndALeader() throws Exception {
    patiently()
        .until(
            () ->
                operator.pods().stream()
                        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                        .filter(p -> "Running".equals(p.getStatus().getPhase()))
                        .count()
                    == 2);
    operator.awaitLeader(Duration.ofSeconds(120));
  }

  /** How long until the process ends, at most {@code limit}; the limit when it does not. */
  static Duration exitTime(ProcessHandle process, Instant since, Duration limit) throws Exception {
    try {
      process.onExit().get(limit.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return limit.plusSeconds(1);
    }
    return Duration.between(since, Instant.now());
  }

  /** A world with a gated Deployment and a migration that runs about 8 s, under way. */
  E2e migrating() throws Exception {
    E2e w = new E2e(sandbox).createDatabase();
    w.secret("orders-db", w.url());
    w.deployment("orders-api", "shop/orders-api:1");
    w.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually().until(() -> "Migrating".equals(w.phase("orders")) && w.paused("orders-api"));
    eventually()
        .until(
            () ->
                w.client().pods().inNamespace(w.ns).list().getItems().stream()
                    .anyMatch(
                        p ->
                            p.getMetadata().getLabels().containsKey("job-name")
                                && "Running".equals(p.getStatus().getPhase())));
    return w;
  }

  /** The run went through once: one Job, one history entry, succeeded, the app released. */
  static void recordedOnceAndReleased(E2e w) {
    assertThat(w.jobs()).as("no second Job").hasSize(1);
    assertThat(w.history("orders"))
        .singleElement()
        .satisfies(h -> assertThat(h.get("outcome")).isEqualTo("Succeeded"));
    assertThat(w.paused("orders-api")).as("nothing held that should not be").isFalse();
  }

  @Test
  @Order(1)
  void twoReplicasRunAndOneLeads() throws Exception {
    world = new E2e(sandbox);
    awaitTwoReplicasAndALeader();
    assertThat(operator.pods())
        .extracting(p -> p.getMetadata().getName())
        .contains(operator.leader());
    world.createDatabase().secret("orders-db", world.url());
    world.migration("orders", spec(good, "latest", "orders-db"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
    // the chart, as scripts/chart published it, runs the operator's index by digest, no value set
    String index = sandbox.real().images.project("operator");
    assertThat(operator.pods())
        .allSatisfy(
            p ->
                assertThat(p.getSpec().getContainers().get(0).getImage())
                    .isEqualTo(
                        index.substring(0, index.lastIndexOf(':', index.indexOf('@')))
                            + index.substring(index.indexOf('@'))));
    // the pods run the image's entrypoint: the runtime the image carries, with its archive
    assertThat(ProcessHandle.of(operator.pid()).flatMap(h -> h.info().arguments()))
        .as("the leader's arguments")
        .hasValueSatisfying(
            args ->
                assertThat(args)
                    .startsWith("@/deployments/jvm.args")
                    .containsSubsequence("-jar", "quarkus-run.jar"));
    assertThat(ProcessHandle.of(operator.pid()).flatMap(h -> h.info().command()))
        .as("the leader's executable")
        .hasValue("/deployments/jre/bin/java");
  }

  @Test
  @Order(2)
  void aStoppedLeaderExitsWithinSecondsAndHandsTheLeaseOver() throws Exception {
    world = new E2e(sandbox);
    awaitTwoReplicasAndALeader();
    String identity = operator.leaderIdentity();
    String pod = ChartOperator.podOf(identity);
    ProcessHandle process = operator.process(pod);
    // the stopped leader's own log, followed from before the stop: once it has exited its pod
    // goes, and with it the log the API server serves
    java.io.ByteArrayOutputStream leaderLog = new java.io.ByteArrayOutputStream();
    Instant deleted;
    Duration exit;
    try (var follow =
        sandbox
            .client()
            .pods()
            .inNamespace(ChartOperator.NAMESPACE)
            .withName(pod)
            .inContainer(ChartOperator.CONTAINER)
            .watchLog(leaderLog)) {
      deleted = Instant.now();
      sandbox.client().pods().inNamespace(ChartOperator.NAMESPACE).withName(pod).delete();
      exit = exitTime(process, deleted, EXIT_LIMIT);
      try {
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    leaderLog
                        .toString(java.nio.charset.StandardCharsets.UTF_8)
                        .contains("released the Lease"));
      } catch (org.awaitility.core.ConditionTimeoutException e) {
        // the assertion below says what the log held
      }
    }
    patiently()
        .until(
            () -> {
              String now = operator.leaderIdentity();
              return now != null && !now.isEmpty() && !now.equals(identity);
            });
    Duration handover = Duration.between(deleted, Instant.now());
    System.out.printf(
        "shutdown (API server up): %s exited %d ms after SIGTERM; %s led %d ms after it%n",
        pod, exit.toMillis(), operator.leader(), handover.toMillis());
    assertThat(exit).as("the JVM exits on SIGTERM, no deadlock").isLessThan(EXIT_LIMIT);
    assertThat(leaderLog.toString(java.nio.charset.StandardCharsets.UTF_8))
        .as("the stopped leader's log")
        .contains("released the Lease");
    assertThat(handover)
        .as("the Lease was released: no wait for it to expire")
        .isLessThan(RETRY_WITH_JITTER.plus(EXIT_LIMIT));
  }

  @Test
  @Order(3)
  void aStoppedLeaderExitsWithinSecondsWhenTheApiServerIsGone() throws Exception {
    world = new E2e(sandbox);
    awaitTwoReplicasAndALeader();
    String pod = operator.leader();
    ProcessHandle process = operator.process(pod);
    var cp = sandbox.real().controlPlane;
    cp.stop("kube-apiserver");
    Instant terminated;
    Duration exit;
    try {
      terminated = Instant.now();
      process.destroy(); // SIGTERM
      exit = exitTime(process, terminated, EXIT_LIMIT);
    } finally {
      cp.startAgain("kube-apiserver");
    }
    System.out.printf(
        "shutdown (API server gone): %s exited %d ms after SIGTERM%n", pod, exit.toMillis());
    assertThat(exit)
        .as("a release that cannot reach the API server does not hold the exit up")
        .isLessThan(EXIT_LIMIT);
    awaitTwoReplicasAndALeader();
  }

  @Test
  @Order(4)
  void whenTheLeaderIsKilledMidRunAnotherReplicaLeadsAdoptsTheJobAndFinishesTheRun()
      throws Exception {
    awaitTwoReplicasAndALeader();
    world = migrating();
    String identity = operator.leaderIdentity();
    ProcessHandle process = operator.process(ChartOperator.podOf(identity));
    Instant killed = Instant.now();
    process.destroyForcibly(); // SIGKILL: no release, the Lease has to expire
    patiently()
        .until(
            () -> {
              String now = operator.leaderIdentity();
              return now != null && !now.isEmpty() && !now.equals(identity);
            });
    Duration failover = Duration.between(killed, Instant.now());
    System.out.printf(
        "failover (SIGKILL): the Lease moved from %s to %s in %d ms%n",
        identity, operator.leaderIdentity(), failover.toMillis());
    assertThat(failover)
        .as("another process leads within the Lease duration and a retry period")
        .isLessThanOrEqualTo(LEASE.plus(RETRY_WITH_JITTER).plusSeconds(1));

    eventually().until(() -> "Ready".equals(world.phase("orders")));
    recordedOnceAndReleased(world);
  }

  @Test
  @Order(5)
  void theApiServerGoneFor30sMidRunLeavesOneJobOneRecordAndNothingHeld() throws Exception {
    outage("kube-apiserver");
  }

  @Test
  @Order(6)
  void etcdGoneFor30sMidRunLeavesOneJobOneRecordAndNothingHeld() throws Exception {
    outage("etcd");
  }

  private void outage(String daemon) throws Exception {
    awaitTwoReplicasAndALeader();
    world = migrating();
    var cp = sandbox.real().controlPlane;
    cp.stop(daemon);
    try {
      Thread.sleep(OUTAGE.toMillis());
    } finally {
      cp.startAgain(daemon);
    }
    Instant back = Instant.now();
    patiently().until(() -> "Ready".equals(world.phase("orders")));
    Duration recovery = Duration.between(back, Instant.now());
    Instant completed = Instant.parse(world.jobs().get(0).getStatus().getCompletionTime());
    Instant recorded = Instant.parse((String) world.history("orders").get(0).get("finishedAt"));
    var lease =
        sandbox
            .client()
            .leases()
            .inNamespace(ChartOperator.NAMESPACE)
            .withName("schemagate-operator")
            .get();
    System.out.printf(
        "outage (%s down %d s mid-run): Ready %d ms after it was back; the Job controller marked"
            + " the Job complete %+d s after, the operator recorded it %+d s after; the Lease"
            + " holder since %s, %+d s after (%s)%n",
        daemon,
        OUTAGE.toSeconds(),
        recovery.toMillis(),
        Duration.between(back, completed).toSeconds(),
        Duration.between(back, recorded).toSeconds(),
        lease.getSpec().getAcquireTime(),
        Duration.between(back, lease.getSpec().getAcquireTime().toInstant()).toSeconds(),
        lease.getSpec().getHolderIdentity());
    recordedOnceAndReleased(world);
    awaitTwoReplicasAndALeader();
  }

  @Test
  @Order(7)
  void helmUninstallLeavesNoObjectOfTheReleaseBehind() throws Exception {
    world = new E2e(sandbox);
    Instant start = Instant.now();
    operator.uninstall();
    System.out.printf(
        "helm uninstall --wait took %d ms%n", Duration.between(start, Instant.now()).toMillis());
    KubernetesClient client = sandbox.client();
    String selector = "app.kubernetes.io/instance";
    List<HasMetadata> left = new ArrayList<>();
    left.addAll(
        client
            .apps()
            .deployments()
            .inNamespace(ChartOperator.NAMESPACE)
            .withLabel(selector, ChartOperator.RELEASE)
            .list()
            .getItems());
    left.addAll(client.apps().replicaSets().inNamespace(ChartOperator.NAMESPACE).list().getItems());
    left.addAll(
        client
            .serviceAccounts()
            .inNamespace(ChartOperator.NAMESPACE)
            .withLabel(selector, ChartOperator.RELEASE)
            .list()
            .getItems());
    left.addAll(client.services().inNamespace(ChartOperator.NAMESPACE).list().getItems());
    left.addAll(
        client
            .policy()
            .v1()
            .podDisruptionBudget()
            .inNamespace(ChartOperator.NAMESPACE)
            .list()
            .getItems());
    left.addAll(client.rbac().roles().inNamespace(ChartOperator.NAMESPACE).list().getItems());
    left.addAll(
        client.rbac().roleBindings().inNamespace(ChartOperator.NAMESPACE).list().getItems());
    left.addAll(
        client.rbac().clusterRoles().withLabel(selector, ChartOperator.RELEASE).list().getItems());
    left.addAll(
        client
            .rbac()
            .clusterRoleBindings()
            .withLabel(selector, ChartOperator.RELEASE)
            .list()
            .getItems());
    assertThat(left).extracting(o -> o.getKind() + " " + o.getMetadata().getName()).isEmpty();
    // the Lease is the replicas' (the chart renders none, so that no upgrade or sync frees it under
    // a live leader): the only one left, and not the release's (the uninstall deletes the RBAC
    // with the replicas, so the last leader may not release it: it expires after 15 s)
    assertThat(client.leases().inNamespace(ChartOperator.NAMESPACE).list().getItems())
        .singleElement()
        .satisfies(
            lease -> {
              assertThat(lease.getMetadata().getName()).isEqualTo(ChartOperator.LEASE);
              assertThat(lease.getMetadata().getLabels()).doesNotContainKey(selector);
            });
    eventually().until(() -> operator.pods().isEmpty() && !operator.isAlive());
    assertThat(Duration.between(start, Instant.now()))
        .as("the replicas exit on SIGTERM instead of waiting out the grace period")
        .isLessThan(Duration.ofSeconds(25));
    assertThat(
            client
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("databasemigrations.schemagate.dev")
                .get())
        .as("Helm keeps the CRDs of a chart's crds/ folder, and with them every DatabaseMigration")
        .isNotNull();
  }
}
