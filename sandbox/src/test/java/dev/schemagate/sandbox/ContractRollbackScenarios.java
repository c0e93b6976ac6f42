package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStrategyBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rollbacks around a release done as expand, roll out, contract, on the real cluster with real
 * PostgreSQL and Flyway, for each admission path (the chart's MutatingAdmissionPolicy, the
 * operator's webhook): after the contract, a rollback onto the old template is held at the
 * scheduling gate with the reason; before it, the rollback starts at once and the contract part
 * does not run under it; a stuck rollout never contracts. The app's pods name the DatabaseMigration
 * and the revision they need, as docs/admission-gate.md asks.
 */
abstract class ContractRollbackScenarios {
  static final String V1 = "shop/orders-api:1";
  static final String V2 = "shop/orders-api:2";
  static final String GATE = "schemagate.dev/migration";
  static final String LABEL = "schemagate.dev/migration";
  static final String REQUIRES = "schemagate.dev/requires-revision";

  /** The two releases' runner images, per sandbox: 1 creates customer(name); 2 renames it. */
  private static final Map<Sandbox, String[]> IMAGES =
      Collections.synchronizedMap(new IdentityHashMap<>());

  String release1;
  String release2;
  E2e world;

  abstract Sandbox sandbox() throws Exception;

  @BeforeEach
  void world() throws Exception {
    Sandbox sandbox = sandbox();
    String[] images = IMAGES.get(sandbox);
    if (images == null) {
      Map<String, String> files = new LinkedHashMap<>();
      files.put(
          "V1__create_customer.sql",
          "CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL);\n"
              + "INSERT INTO customer VALUES (1, 'Ada Lovelace');\n");
      String one = E2e.runnerImage(sandbox, "e2e/customer-rollback:1", files);
      files.put(
          "V2__add_full_name.sql",
          "ALTER TABLE customer ADD COLUMN full_name text;\n"
              + "UPDATE customer SET full_name = name;\n");
      files.put("V3__drop_name.contract.sql", "ALTER TABLE customer DROP COLUMN name;\n");
      String two = E2e.runnerImage(sandbox, "e2e/customer-rollback:2", files);
      images = new String[] {one, two};
      IMAGES.put(sandbox, images);
      sandbox.idleImage(V1);
      sandbox.idleImage(V2);
    }
    release1 = images[0];
    release2 = images[1];
    world = new E2e(sandbox).createDatabase();
    world.secret("orders-db", world.url());
  }

  /**
   * orders-api (2 replicas) on release 1: its pods name orders and require revision 1; the change
   * to make to it (strategy, progress deadline) first. Waits until both run.
   */
  void releaseOne(Consumer<Deployment> shape) {
    world.migration("orders", spec(release1, "latest", "orders-db", "orders-api"));
    Deployment d = E2e.deployment("orders-api", new ContainerBuilder().withName("app").build());
    shape(d, V1, "1", false);
    shape.accept(d);
    world.client().apps().deployments().inNamespace(world.ns).resource(d).create();
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(() -> ready(world.livePods("orders-api", V1)) == 2);
  }

  /** Sets the app's pod template, as a release (or kubectl rollout undo) does. */
  void template(String image, String requires, boolean neverReady) {
    world.editDeployment("orders-api", d -> shape(d, image, requires, neverReady));
  }

  /**
   * The pod template of a release: its image, the DatabaseMigration it names and the revision it
   * requires; never ready when asked (a readiness probe on a port nothing listens on).
   */
  static void shape(Deployment d, String image, String requires, boolean neverReady) {
    var template = d.getSpec().getTemplate();
    template.getMetadata().getLabels().put(LABEL, "orders");
    if (template.getMetadata().getAnnotations() == null) {
      template.getMetadata().setAnnotations(new HashMap<>());
    }
    template.getMetadata().getAnnotations().put(REQUIRES, requires);
    var container = template.getSpec().getContainers().get(0);
    container.setImage(image);
    container.setReadinessProbe(
        neverReady
            ? new io.fabric8.kubernetes.api.model.ProbeBuilder()
                .withNewTcpSocket()
                .withNewPort(9)
                .endTcpSocket()
                .withPeriodSeconds(1)
                .build()
            : null);
  }

  /** The release of 2: the migrations (expand 2, contract 3) and the app, in one go. */
  void releaseTwo(boolean neverReady) {
    world.editSpec("orders", s -> s.put("image", release2));
    template(V2, "3", neverReady);
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> contract() {
    Object contract = world.status("orders").get("contract");
    return contract == null ? Map.of() : (Map<String, Object>) contract;
  }

  List<String> columns() throws Exception {
    return world.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'customer'"
            + " ORDER BY column_name");
  }

  boolean contractJobExists() {
    return world.jobs().stream()
        .anyMatch(
            j -> "contract".equals(j.getMetadata().getAnnotations().get("schemagate.dev/part")));
  }

  static long ready(List<Pod> pods) {
    return pods.stream()
        .filter(
            p ->
                p.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())))
        .count();
  }

  static boolean gated(Pod pod) {
    return pod.getSpec().getSchedulingGates() != null
        && pod.getSpec().getSchedulingGates().stream().anyMatch(g -> GATE.equals(g.getName()));
  }

  /** Every pod of the namespace as it was created (after admission), from a watch. */
  Watch recordCreated(List<Pod> created) {
    return world
        .client()
        .pods()
        .inNamespace(world.ns)
        .withLabel("app", "orders-api")
        .watch(
            new Watcher<Pod>() {
              @Override
              public void eventReceived(Action action, Pod pod) {
                if (action == Action.ADDED) {
                  created.add(pod);
                }
              }

              @Override
              public void onClose(WatcherException cause) {}
            });
  }

  @Test
  void aRollbackOntoTheContractedSchemaIsHeldWithTheReason() throws Exception {
    releaseOne(d -> {});
    releaseTwo(false);
    eventually()
        .atMost(Duration.ofSeconds(180))
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && "Completed".equals(contract().get("phase"))
                    && world.livePods("orders-api", V1).isEmpty()
                    && ready(world.livePods("orders-api", V2)) == 2);
    assertThat(world.status("orders").get("contractRevisions")).isEqualTo(List.of("3"));
    assertThat(columns()).containsExactly("full_name", "id");

    // kubectl rollout undo: the template of release 1 again
    template(V1, "1", false);

    eventually()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                !world.livePods("orders-api", V1).isEmpty()
                    && "SchemaContracted"
                        .equals(world.condition("orders", "RolloutHeld").get("reason")));
    Map<String, Object> held = world.condition("orders", "RolloutHeld");
    assertThat(held.get("status")).isEqualTo("True");
    String reason =
        "revision 1 of DatabaseMigration orders is contracted: contract migration 3, applied"
            + " after it, removed what a pod that requires 1 uses (the database is at 3). Roll"
            + " forward to a template that requires 3 or later, or migrate the database down below"
            + " 3 (spec.targetRevision with spec.downgrade.policy: Allow)";
    assertThat((String) held.get("message")).contains(reason);
    eventually()
        .until(() -> world.events("SchemaContracted").stream().anyMatch(m -> m.contains(reason)));

    // held, not run: the new version keeps serving, the rolled-back pod waits at the gate
    Thread.sleep(3000);
    List<Pod> old = world.livePods("orders-api", V1);
    assertThat(old)
        .isNotEmpty()
        .allSatisfy(
            p -> {
              assertThat(gated(p)).as("%s waits at the gate", p.getMetadata().getName()).isTrue();
              assertThat(p.getStatus().getPhase()).isEqualTo("Pending");
              assertThat(p.getSpec().getNodeName()).isNull();
            });
    assertThat(ready(world.livePods("orders-api", V2))).isEqualTo(2);
    assertThat((List<?>) world.status("orders").get("heldPods")).isNotEmpty();
    assertThat(columns()).containsExactly("full_name", "id");
  }

  @Test
  void aRollbackBeforeTheContractStartsAtOnceAndTheContractWaits() throws Exception {
    // Recreate: the rollback makes new pods of release 1 (none is left to scale back up)
    releaseOne(
        d -> d.getSpec().setStrategy(new DeploymentStrategyBuilder().withType("Recreate").build()));
    releaseTwo(true);
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                "AwaitingRollout".equals(contract().get("phase"))
                    && world.livePods("orders-api", V1).isEmpty()
                    && world.livePods("orders-api", V2).size() == 2
                    && world.livePods("orders-api", V2).stream().noneMatch(p -> gated(p)));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("2");

    List<Pod> created = Collections.synchronizedList(new ArrayList<>());
    Instant undone;
    try (Watch watch = recordCreated(created)) {
      undone = Instant.now();
      template(V1, "1", false);
      eventually()
          .atMost(Duration.ofSeconds(90))
          .until(() -> ready(world.livePods("orders-api", V1)) == 2);
    }
    Instant running = Instant.now();
    List<Pod> rolledBack =
        created.stream()
            .filter(p -> V1.equals(p.getSpec().getContainers().get(0).getImage()))
            .toList();
    assertThat(rolledBack)
        .as("the rolled-back pods, as admission made them")
        .hasSize(2)
        .allSatisfy(p -> assertThat(gated(p)).as("gated at creation").isFalse());
    System.out.printf(
        "rollback before the contract: both pods ready %d ms after the template changed%n",
        Duration.between(undone, running).toMillis());

    // the old version runs again: the contract part must not remove what it reads
    eventually()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                String.valueOf(contract().get("waitingFor"))
                    .contains(
                        "orders-api (its pod template requires revision 1, which contract"
                            + " migration 3 would contract: roll forward to a template that"
                            + " requires 3 or later)"));
    Thread.sleep(5000);
    assertThat(contract().get("phase")).isEqualTo("AwaitingRollout");
    assertThat(contractJobExists()).as("no contract Job").isFalse();
    assertThat(columns()).containsExactly("full_name", "id", "name");
    assertThat(world.rows("SELECT name FROM customer")).containsExactly("Ada Lovelace");
  }

  @Test
  void aStuckRolloutNeverContracts() throws Exception {
    // the rollout's timeout is the Deployment's own progressDeadlineSeconds
    releaseOne(d -> d.getSpec().setProgressDeadlineSeconds(10));
    releaseTwo(true);
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "RolloutStuck".equals(contract().get("phase")));

    assertThat(world.stalled("orders")).isEqualTo("RolloutStuck");
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains(
            "orders-api: ProgressDeadlineExceeded after progressDeadlineSeconds 10",
            "does not run while the rollout is stuck");
    assertThat((String) contract().get("message"))
        .contains("ProgressDeadlineExceeded after progressDeadlineSeconds 10");
    assertThat(String.valueOf(contract().get("waitingFor")))
        .contains("orders-api: ProgressDeadlineExceeded");
    eventually().until(() -> !world.events("RolloutStuck").isEmpty());
    // the old version keeps serving; nothing was removed
    assertThat(ready(world.livePods("orders-api", V1))).isEqualTo(2);
    Thread.sleep(3000);
    assertThat(contractJobExists()).as("no contract Job").isFalse();
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("2");
    assertThat(columns()).containsExactly("full_name", "id", "name");
  }
}
