package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The chart as users install it, on a control plane of its own: two replicas elect a leader on the
 * chart's Lease; a migration goes through; the leader's pod is deleted mid-run and the other
 * replica takes over within the Lease duration and finishes the run; helm uninstall leaves no
 * object of the release behind.
 */
@ExtendWith(E2e.Reporter.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChartE2eTest {
  /** The operator's Lease duration (the SDK's default) and its retry period. */
  static final Duration LEASE = Duration.ofSeconds(15);

  static final Duration RETRY = Duration.ofSeconds(2);
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

  @Test
  @Order(1)
  void twoReplicasRunAndOneLeadsOnTheChartsLease() throws Exception {
    world = new E2e(sandbox);
    eventually()
        .until(
            () ->
                operator.pods().stream()
                        .filter(p -> "Running".equals(p.getStatus().getPhase()))
                        .count()
                    == 2);
    assertThat(operator.pods())
        .extracting(p -> p.getMetadata().getName())
        .contains(operator.leader());
    world.createDatabase().secret("orders-db", world.url());
    world.migration("orders", spec(good, "latest", "orders-db"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
  }

  @Test
  @Order(2)
  void whenTheLeadersPodIsDeletedTheOtherReplicaTakesOverAndFinishesTheRun() throws Exception {
    world = new E2e(sandbox).createDatabase();
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually().until(() -> "Migrating".equals(world.phase("orders")));
    String leader = operator.leader();
    Instant deleted = Instant.now();
    sandbox.client().pods().inNamespace(ChartOperator.NAMESPACE).withName(leader).delete();
    eventually()
        .until(
            () -> {
              String now = operator.leader();
              return now != null && !now.equals(leader) && !now.isEmpty();
            });
    Duration failover = Duration.between(deleted, Instant.now());
    System.out.printf(
        "failover: the Lease moved from %s to %s in %d ms%n",
        leader, operator.leader(), failover.toMillis());
    assertThat(failover)
        .as("the other replica leads within the Lease duration")
        .isLessThanOrEqualTo(LEASE.plus(RETRY));

    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).as("the new leader adopted the running Job").hasSize(1);
    assertThat(world.history("orders"))
        .singleElement()
        .satisfies(h -> assertThat(h.get("outcome")).isEqualTo("Succeeded"));
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  @Order(3)
  void helmUninstallLeavesNoObjectOfTheReleaseBehind() throws Exception {
    world = new E2e(sandbox);
    operator.uninstall();
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
    left.addAll(client.leases().inNamespace(ChartOperator.NAMESPACE).list().getItems());
    assertThat(left).extracting(o -> o.getKind() + " " + o.getMetadata().getName()).isEmpty();
    eventually().until(() -> operator.pods().isEmpty() && !operator.isAlive());
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
