package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.Approval;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Phase;
import dev.schemagate.api.PlanPhase;
import dev.schemagate.api.PlanSpec;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * spec.approval: Manual on the mock API server, the test playing the Job controller and the
 * kubelet: the plan Job, the plan in status and its ConfigMap, the app held until the plan's hash
 * is approved, and an approval of a plan that is no longer the plan running nothing.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ApprovalReconcilerTest extends ReconcilerTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String HASH_1 = "0123456789abcdef";
  static final String HASH_2 = "fedcba9876543210";

  /** The result of the runner's direction plan. */
  static String planResult(String from, String to, String hash, String sql, String... revisions)
      throws Exception {
    List<Object> pending = new ArrayList<>();
    for (String r : revisions) {
      pending.add(
          Map.of("revision", r, "description", "migration " + r, "checksum", 1000 + r.length()));
    }
    Map<String, Object> plan = new LinkedHashMap<>();
    plan.put("hash", hash);
    plan.put("pending", pending);
    plan.put("sqlBytes", sql.length());
    plan.put("sqlTruncated", false);
    plan.put("sql", sql);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("tool", "flyway");
    out.put("direction", "plan");
    out.put("fromRevision", from);
    out.put("toRevision", to);
    out.put("applied", List.of());
    out.put("plan", plan);
    out.put("durationMs", 42);
    return JSON.writeValueAsString(out);
  }

  DatabaseMigration manual(String name, String image) {
    DatabaseMigration dbm = migration(ns, name, image, "3", "orders-api");
    dbm.getSpec().setApproval(Approval.Manual);
    return dbm;
  }

  PlanStatus awaitPlanAwaiting(String name, String hash) {
    eventually()
        .untilAsserted(
            () -> {
              DatabaseMigration dbm = cluster.dbm(name);
              assertThat(dbm.getStatus().getPhase()).isEqualTo(Phase.AwaitingApproval);
              assertThat(dbm.getStatus().getPlan().getAwaitingApproval()).isEqualTo(hash);
            });
    return cluster.dbm(name).getStatus().getPlan();
  }

  @Test
  void manualApprovalHoldsTheAppWithThePlanUntilItsHashIsApprovedThenRunsItOnce() throws Exception {
    cluster.createDeployment("orders-api", false);
    DatabaseMigration dbm = manual("orders", IMAGE_1);
    dbm.getSpec().setPlan(new PlanSpec());
    dbm.getSpec().getPlan().setRehearse(true);
    apply(dbm);

    Job plan = awaitSingleJob();
    assertThat(direction(plan)).isEqualTo("plan");
    assertThat(env(plan, "SCHEMAGATE_DIRECTION")).isEqualTo("plan");
    assertThat(env(plan, "SCHEMAGATE_REHEARSE")).isEqualTo("true");
    assertThat(env(plan, "SCHEMAGATE_PLAN_INPUTS")).isEqualTo("image=" + IMAGE_1 + " target=3");
    assertThat(plan.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
        .as("the runner's Job contract, no migrate argument")
        .isNullOrEmpty();
    assertThat(plan.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(IMAGE_1);
    assertThat(plan.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo("orders"));
    awaitPhase("orders", Phase.Pending);
    assertThat(condition(cluster.dbm("orders"), Conditions.READY).getReason())
        .isEqualTo("Planning");
    // held while planning (as soon as the Deployment is in the operator's cache)
    eventually().until(() -> paused("orders-api"));

    cluster.succeed(
        plan,
        planResult(
            "",
            "3",
            HASH_1,
            "-- 1 migration 1\nCREATE TABLE app_user (id int);\n"
                + "-- 2 migration 2\nCREATE ROLE reporter LOGIN PASSWORD 'hunter2-in-sql';\n",
            "1",
            "2",
            "3"));
    PlanStatus status = awaitPlanAwaiting("orders", HASH_1);
    assertThat(status.getHash()).isEqualTo(HASH_1);
    assertThat(status.getPhase()).isEqualTo(PlanPhase.AwaitingApproval);
    assertThat(status.getPending()).extracting(m -> m.getRevision()).containsExactly("1", "2", "3");
    assertThat(status.getSummary())
        .isEqualTo("empty -> 3: 1 migration 1, 2 migration 2, 3 migration 3");
    assertThat(status.getConfigMap()).isEqualTo("orders-plan");
    DatabaseMigration held = cluster.dbm("orders");
    var ready = condition(held, Conditions.READY);
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("ApprovalPending");
    assertThat(ready.getMessage())
        .contains("plan " + HASH_1 + " awaits approval", "set spec.approvedPlan: " + HASH_1);
    assertThat(ready.getObservedGeneration()).isEqualTo(held.getMetadata().getGeneration());
    assertThat(condition(held, Conditions.STALLED).getStatus()).isEqualTo("False");
    assertThat(paused("orders-api")).as("the app is held").isTrue();
    assertThat(jobs("upgrade")).as("no run before the approval").isEmpty();

    ConfigMap cm = client.configMaps().inNamespace(ns).withName("orders-plan").get();
    assertThat(cm.getData().get("hash")).isEqualTo(HASH_1);
    assertThat(cm.getData().get("plan.sql"))
        .contains("CREATE TABLE app_user (id int);", "CREATE ROLE reporter LOGIN PASSWORD")
        .doesNotContain("hunter2");
    assertThat(cm.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(held.getMetadata().getUid()));
    assertThat(cluster.eventReasons()).contains("PlanStarted", "PlanReady");

    edit(
        "orders",
        d -> {
          d.getSpec().setApprovedPlan(HASH_1);
          return d;
        });
    eventually().until(() -> jobs("upgrade").size() == 1);
    Job run = jobs("upgrade").get(0);
    assertThat(env(run, "SCHEMAGATE_APPROVED_PLAN"))
        .as("the run's Job checks it applies exactly that plan")
        .isEqualTo(HASH_1);
    assertThat(env(run, "SCHEMAGATE_PLAN_INPUTS")).isEqualTo(env(plan, "SCHEMAGATE_PLAN_INPUTS"));
    assertThat(cluster.dbm("orders").getStatus().getPlan().getPhase())
        .isEqualTo(PlanPhase.Approved);
    assertThat(cluster.dbm("orders").getStatus().getPlan().getAwaitingApproval()).isNull();
    cluster.succeed(run, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
    assertThat(jobs("upgrade")).as("exactly one run").hasSize(1);
    assertThat(jobs("plan")).as("exactly one plan").hasSize(1);
  }

  @Test
  void aNewImageBeforeTheApprovalMakesANewPlanAndTheOldApprovalRunsNothing() throws Exception {
    cluster.createDeployment("orders-api", false);
    apply(manual("orders", IMAGE_1));
    Job plan1 = awaitSingleJob();
    cluster.succeed(plan1, planResult("", "3", HASH_1, "SELECT 1;", "1", "2", "3"));
    awaitPlanAwaiting("orders", HASH_1);

    // one GitOps commit: the image tag moved, and the approval of the plan made for the old one
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          d.getSpec().setApprovedPlan(HASH_1);
          return d;
        });
    // a new plan Job; the old one, finished and replaced, goes
    String plan1Name = plan1.getMetadata().getName();
    eventually()
        .until(
            () ->
                jobs("plan").size() == 1
                    && !jobs("plan").get(0).getMetadata().getName().equals(plan1Name));
    Job plan2 = jobs("plan").get(0);
    assertThat(plan2.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(IMAGE_2);
    assertThat(env(plan2, "SCHEMAGATE_PLAN_INPUTS")).isEqualTo("image=" + IMAGE_2 + " target=3");
    assertThat(jobs("upgrade")).as("the old approval starts nothing").isEmpty();

    cluster.succeed(plan2, planResult("", "3", HASH_2, "SELECT 2;", "1", "2", "3"));
    awaitPlanAwaiting("orders", HASH_2);
    DatabaseMigration dbm = cluster.dbm("orders");
    assertThat(dbm.getStatus().getPlan().getImage()).isEqualTo(IMAGE_2);
    assertThat(condition(dbm, Conditions.READY).getMessage())
        .contains(
            "plan " + HASH_2 + " awaits approval",
            "spec.approvedPlan " + HASH_1 + " is not this plan",
            "it runs nothing");
    assertThat(jobs("upgrade")).as("the stale approval starts nothing").isEmpty();
    assertThat(paused("orders-api")).isTrue();
    assertThat(client.configMaps().inNamespace(ns).withName("orders-plan").get().getData())
        .containsEntry("hash", HASH_2)
        .containsEntry("plan.sql", "SELECT 2;");

    edit(
        "orders",
        d -> {
          d.getSpec().setApprovedPlan(HASH_2);
          return d;
        });
    eventually().until(() -> jobs("upgrade").size() == 1);
    Job run = jobs("upgrade").get(0);
    assertThat(run.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(IMAGE_2);
    assertThat(env(run, "SCHEMAGATE_APPROVED_PLAN")).isEqualTo(HASH_2);
    cluster.succeed(run, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(jobs("upgrade")).hasSize(1);
  }

  @Test
  void aFailedPlanIsStalledWithItsReasonAndNoRun() throws Exception {
    cluster.createDeployment("orders-api", false);
    apply(manual("orders", IMAGE_1));
    Job plan = awaitSingleJob();
    cluster.fail(
        plan,
        5,
        "{\"tool\":\"flyway\",\"direction\":\"plan\",\"applied\":[],\"error\":\"DatabaseUnreachable\","
            + "\"message\":\"connection refused\"}");
    awaitPhase("orders", Phase.Failed);
    DatabaseMigration dbm = cluster.dbm("orders");
    assertThat(condition(dbm, Conditions.STALLED).getReason()).isEqualTo("PlanFailed");
    assertThat(condition(dbm, Conditions.STALLED).getMessage())
        .contains("the plan Job " + plan.getMetadata().getName() + " failed", "connection refused");
    assertThat(jobs("upgrade")).isEmpty();
    assertThat(paused("orders-api")).isTrue();
  }

  @Test
  void automaticApprovalMakesNoPlan() {
    apply(migration(ns, "orders", IMAGE_1, "3"));
    Job job = awaitSingleJob();
    assertThat(direction(job)).isEqualTo("upgrade");
    assertThat(env(job, "SCHEMAGATE_APPROVED_PLAN")).isNull();
    assertThat(cluster.dbm("orders").getSpec().getApproval()).isEqualTo(Approval.Automatic);
  }
}
