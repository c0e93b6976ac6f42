package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Review and approval end to end: the operator installed with its chart (on the real control plane
 * by default), the schemagate runner's plan and rehearsal on a real PostgreSQL, the plan in status
 * and its ConfigMap, the app held, and only the approved plan run.
 */
@ExtendWith(E2e.Reporter.class)
class PlanE2eTest {
  static String v2;
  static String v4;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    Map<String, String> four = new LinkedHashMap<>(E2e.exampleMigrations());
    four.put(
        "V5__reporting_role.sql",
        "CREATE ROLE reporter_e2e_plan LOGIN PASSWORD 'Tr0ub4dor&3-e2e';\n"
            + "DROP ROLE reporter_e2e_plan;\n");
    v4 = E2e.runnerImage("e2e/plan-app-user:5", four);
    Map<String, String> two = new LinkedHashMap<>();
    E2e.exampleMigrations().forEach((k, v) -> two.put(k, v));
    two.keySet().removeIf(k -> k.matches("[VU][34]__.*"));
    v2 = E2e.runnerImage("e2e/plan-app-user:2", two);
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> plan(String name) {
    Object plan = world.status(name).get("plan");
    return plan == null ? Map.of() : (Map<String, Object>) plan;
  }

  String awaitingHash(String name) {
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                "AwaitingApproval".equals(world.phase(name))
                    && plan(name).get("awaitingApproval") != null);
    return (String) plan(name).get("awaitingApproval");
  }

  @Test
  void aPlanIsReviewedRehearsedApprovedInTheResourceAndOnlyTheApprovedPlanRuns() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    Map<String, Object> spec = spec(v2, "latest", "orders-db", "orders-api");
    spec.put("approval", "Manual");
    spec.put("plan", Map.of("rehearse", true));
    world.migration("orders", spec);

    String first = awaitingHash("orders");
    Map<String, Object> plan = plan("orders");
    assertThat(first).matches("[0-9a-f]{16}");
    assertThat((String) plan.get("summary"))
        .startsWith("empty -> 2: 1 create app user, 2 add email; rehearsal succeeded in");
    assertThat(world.paused("orders-api")).as("the app is held").isTrue();
    assertThat(world.condition("orders", "Ready"))
        .containsEntry("status", "False")
        .containsEntry("reason", "ApprovalPending");
    assertThat(world.jobs("upgrade")).as("nothing runs before the approval").isEmpty();
    assertThat(world.rows("SELECT to_regclass('public.app_user')::text"))
        .as("the rehearsal left nothing")
        .containsExactly((String) null);
    assertThat(world.rows("SELECT to_regclass('public.flyway_schema_history')::text"))
        .containsExactly((String) null);
    ConfigMap cm = world.client().configMaps().inNamespace(world.ns).withName("orders-plan").get();
    assertThat(cm.getData().get("plan.sql")).contains("CREATE TABLE app_user");
    assertThat(plan.get("planSeconds")).as("how long the plan Job took").isNotNull();
    if (E2e.sandbox.real() != null) {
      String get = world.kubectl("get", "dbm", "orders");
      assertThat(get).contains("AWAITING", first, "AwaitingApproval");
      assertThat(world.kubectl("get", "dbm", "orders", "-o", "jsonpath={.status.plan.hash}"))
          .isEqualTo(first);
      System.out.println("$ kubectl get dbm orders\n" + get);
    }
    System.out.println(
        "plan Job took "
            + plan.get("planSeconds")
            + " s (creation to completion); status.plan: "
            + plan);

    // the image moves and the old plan is approved in the same commit: a new plan, nothing runs
    world.editSpec(
        "orders",
        s -> {
          s.put("image", v4);
          s.put("approvedPlan", first);
        });
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(
            () -> {
              Object hash = plan("orders").get("awaitingApproval");
              return hash != null && !first.equals(hash);
            });
    String second = awaitingHash("orders");
    assertThat(second).isNotEqualTo(first);
    assertThat((String) world.condition("orders", "Ready").get("message"))
        .contains("spec.approvedPlan " + first + " is not this plan");
    assertThat(world.jobs("upgrade")).as("the stale approval runs nothing").isEmpty();
    String sql =
        world
            .client()
            .configMaps()
            .inNamespace(world.ns)
            .withName("orders-plan")
            .get()
            .getData()
            .get("plan.sql");
    assertThat(sql)
        .contains("CREATE ROLE reporter_e2e_plan LOGIN PASSWORD")
        .doesNotContain("Tr0ub4dor");

    world.editSpec("orders", s -> s.put("approvedPlan", second));
    eventually().atMost(Duration.ofSeconds(120)).until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs("upgrade")).as("exactly one run").hasSize(1);
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("5");
    assertThat(world.paused("orders-api")).isFalse();
    world.assertNowhere("Tr0ub4dor&3-e2e", true);
  }

  /**
   * A ConfigMap of the plan's name that someone else made is not the operator's to write over: the
   * real API server's answer to the operator's guarded write (a failed test of the owner reference)
   * is PlanRejected naming it; that ConfigMap keeps its data and its owners, and the plan is
   * written once it is gone.
   */
  @Test
  void aPlanConfigMapNameSomeoneElseHoldsIsPlanRejectedAndNeverTakenOver() throws Exception {
    world
        .client()
        .configMaps()
        .inNamespace(world.ns)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("orders-plan")
                .endMetadata()
                .addToData("plan.sql", "theirs")
                .build())
        .create();
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    Map<String, Object> spec = spec(v2, "latest", "orders-db", "orders-api");
    spec.put("approval", "Manual");
    world.migration("orders", spec);

    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "PlanRejected".equals(world.condition("orders", "Stalled").get("reason")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains(
            "ConfigMap orders-plan exists and is not this DatabaseMigration's",
            "the operator does not write over it",
            "rename or delete that ConfigMap");
    eventually().until(() -> world.eventReasons().contains("PlanRejected"));
    ConfigMap theirs =
        world.client().configMaps().inNamespace(world.ns).withName("orders-plan").get();
    assertThat(theirs.getData()).containsExactly(Map.entry("plan.sql", "theirs"));
    assertThat(theirs.getMetadata().getOwnerReferences()).as("not taken over").isEmpty();
    assertThat(world.paused("orders-api")).as("the app stays held").isTrue();
    assertThat(world.jobs("upgrade")).isEmpty();

    world.client().configMaps().inNamespace(world.ns).withName("orders-plan").delete();
    awaitingHash("orders");
    ConfigMap ours =
        world.client().configMaps().inNamespace(world.ns).withName("orders-plan").get();
    assertThat(ours.getData().get("plan.sql")).contains("CREATE TABLE app_user");
    assertThat(ours.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> assertThat(o.getKind() + "/" + o.getName()).isEqualTo("DatabaseMigration/orders"));
  }
}
