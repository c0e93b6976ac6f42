package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftSpec;
import dev.schemagate.api.OnDrift;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * spec.drift on the mock API server, the test playing the Job controller and the kubelet: the
 * fingerprint a run records, a check Job once the interval has passed (and not before, and not
 * while a run is under way), a drift named by its tables, and onDrift: Block holding the next run
 * until the live fingerprint is acknowledged. The interval is an hour: the tests move the recorded
 * time back instead of waiting.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class DriftReconcilerTest extends ReconcilerTestBase {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String FP_1 = "1111111111111111";
  static final String FP_2 = "2222222222222222";
  static final String FP_3 = "3333333333333333";
  static final Map<String, String> TABLES_1 =
      Map.of("public.orders", "aaaaaaaa", "public.customers", "bbbbbbbb");

  /** A run's result with the Job contract's schema object. */
  static String withSchema(String result, String fingerprint, Map<String, String> tables)
      throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> out = JSON.readValue(result, LinkedHashMap.class);
    out.put("schema", Map.of("fingerprint", fingerprint, "tables", tables));
    return JSON.writeValueAsString(out);
  }

  /** A check's result (direction check). */
  static String checkResult(String revision, String fingerprint, Map<String, String> tables)
      throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("tool", "flyway");
    out.put("direction", "check");
    out.put("fromRevision", revision);
    out.put("toRevision", revision);
    out.put("applied", List.of());
    out.put("schema", Map.of("fingerprint", fingerprint, "tables", tables));
    out.put("durationMs", 120);
    return JSON.writeValueAsString(out);
  }

  DatabaseMigration drifting(String name, String image, OnDrift onDrift) {
    DatabaseMigration dbm = migration(ns, name, image, "3", "orders-api");
    DriftSpec drift = new DriftSpec();
    drift.setInterval("1h");
    drift.setOnDrift(onDrift);
    dbm.getSpec().setDrift(drift);
    return dbm;
  }

  Condition drifted(String name) {
    return condition(cluster.dbm(name), Conditions.DRIFTED);
  }

  /** Writes the status as the operator would not: on a conflict with its writes, again. */
  void changeStatus(String name, Consumer<DatabaseMigrationStatus> change) {
    for (int attempt = 1; ; attempt++) {
      DatabaseMigration fresh = cluster.dbm(name);
      change.accept(fresh.getStatus());
      try {
        client.resources(DatabaseMigration.class).inNamespace(ns).resource(fresh).updateStatus();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  /**
   * Moves the recorded fingerprint's time back past the interval, and clears observedGeneration:
   * once the operator has written it again, it has reconciled the resource as changed.
   */
  void intervalPassed(String name) {
    changeStatus(
        name,
        s -> {
          s.getDrift().setRecordedAt(Instant.now().minus(2, ChronoUnit.HOURS).toString());
          s.setObservedGeneration(0L);
        });
    awaitReconciled(name);
  }

  void awaitReconciled(String name) {
    eventually()
        .until(
            () ->
                cluster.dbm(name).getStatus().getObservedGeneration() != null
                    && cluster.dbm(name).getStatus().getObservedGeneration() > 0);
  }

  /** A migration at revision 3 with fingerprint FP_1 recorded. */
  Job ready(DatabaseMigration dbm) throws Exception {
    cluster.createDeployment("orders-api", false);
    apply(dbm);
    Job run = awaitSingleJob();
    cluster.succeed(run, withSchema(result("", "3", "1", "2", "3"), FP_1, TABLES_1));
    awaitPhase(dbm.getMetadata().getName(), Phase.Ready);
    return run;
  }

  Job awaitCheck(String name) {
    eventually()
        .until(
            () ->
                cluster.dbm(name).getStatus().getDrift().getCheck() != null
                    && cluster.dbm(name).getStatus().getDrift().getCheck().getOutcome() == null
                    && cluster.job(cluster.dbm(name).getStatus().getDrift().getCheck().getJob())
                        != null);
    return cluster.job(cluster.dbm(name).getStatus().getDrift().getCheck().getJob());
  }

  /** A check Job found the live schema with orders changed and audit added. */
  void driftFound(String name) throws Exception {
    intervalPassed(name);
    Job check = awaitCheck(name);
    cluster.succeed(
        check,
        checkResult(
            "3",
            FP_2,
            Map.of(
                "public.orders", "cccccccc",
                "public.customers", "bbbbbbbb",
                "public.audit", "dddddddd")));
    eventually().until(() -> "True".equals(drifted(name).getStatus()));
  }

  @Test
  void aSuccessfulRunRecordsTheFingerprintAndNoCheckRunsBeforeTheInterval() throws Exception {
    Job run = ready(drifting("orders", IMAGE_1, OnDrift.Report));
    DatabaseMigration dbm = cluster.dbm("orders");
    var drift = dbm.getStatus().getDrift();
    assertThat(drift.getFingerprint()).isEqualTo(FP_1);
    assertThat(drift.getTables()).isEqualTo(TABLES_1);
    assertThat(drift.getRecordedBy()).isEqualTo(run.getMetadata().getName());
    assertThat(dbm.getStatus().getHistory().get(0).getSchemaFingerprint())
        .as("the history keeps the fingerprint, not the tables")
        .isEqualTo(FP_1);
    Condition drifted = drifted("orders");
    assertThat(drifted.getStatus()).isEqualTo("False");
    assertThat(drifted.getReason()).isEqualTo("SchemaRecorded");
    assertThat(drifted.getMessage()).contains("fingerprint " + FP_1 + " recorded by Job");
    assertThat(drifted.getObservedGeneration()).isEqualTo(dbm.getMetadata().getGeneration());

    // a reconcile within the interval starts no check
    changeStatus("orders", s -> s.setObservedGeneration(0L));
    awaitReconciled("orders");
    assertThat(jobs("check")).as("no check before the interval").isEmpty();
    assertThat(cluster.dbm("orders").getStatus().getDrift().getCheck()).isNull();
  }

  @Test
  void aCheckRunsOnceTheIntervalHasPassedAndNamesTheChangedTables() throws Exception {
    Job run = ready(drifting("orders", IMAGE_1, OnDrift.Report));
    intervalPassed("orders");
    Job check = awaitCheck("orders");
    assertThat(jobs("check")).hasSize(1);
    assertThat(env(check, "SCHEMAGATE_DIRECTION")).isEqualTo("check");
    assertThat(env(check, "SCHEMAGATE_TARGET_REVISION")).isEqualTo("3");
    var container = check.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getImage()).as("the image that reached the revision").isEqualTo(IMAGE_1);
    assertThat(container.getArgs()).as("the runner reads SCHEMAGATE_DIRECTION").isNullOrEmpty();
    assertThat(container.getEnvFrom())
        .singleElement()
        .satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("orders-db"));
    assertThat(check.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot())
        .isTrue();
    assertThat(check.getSpec().getActiveDeadlineSeconds()).isLessThanOrEqualTo(120L);
    assertThat(check.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getName()).isEqualTo("orders"));

    cluster.succeed(
        check,
        checkResult(
            "3",
            FP_2,
            Map.of(
                "public.orders", "cccccccc",
                "public.customers", "bbbbbbbb",
                "public.audit", "dddddddd")));
    eventually().until(() -> "True".equals(drifted("orders").getStatus()));
    DatabaseMigration dbm = cluster.dbm("orders");
    Condition drifted = drifted("orders");
    assertThat(drifted.getReason()).isEqualTo("DriftDetected");
    assertThat(drifted.getMessage())
        .contains(
            "fingerprint " + FP_2,
            "differs from fingerprint " + FP_1,
            "changed public.orders",
            "added public.audit",
            "Job " + check.getMetadata().getName());
    var live = dbm.getStatus().getDrift().getLive();
    assertThat(live.getFingerprint()).isEqualTo(FP_2);
    assertThat(live.getChanged()).containsExactly("public.orders");
    assertThat(live.getAdded()).containsExactly("public.audit");
    assertThat(live.getRemoved()).isNull();
    assertThat(dbm.getStatus().getDrift().getCheck().getOutcome()).isEqualTo(CheckOutcome.Drifted);
    assertThat(dbm.getStatus().getPhase()).as("Report only reports").isEqualTo(Phase.Ready);
    assertThat(condition(dbm, Conditions.READY).getStatus()).isEqualTo("True");
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.events())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("DriftDetected");
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getMessage()).contains("changed public.orders");
                        }));
    assertThat(jobs("upgrade"))
        .extracting(j -> j.getMetadata().getName())
        .as("the check ran no migration")
        .containsExactly(run.getMetadata().getName());
  }

  @Test
  void noCheckRunsWhileARunIsUnderWay() throws Exception {
    ready(drifting("orders", IMAGE_1, OnDrift.Report));
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          return d;
        });
    eventually().until(() -> jobs("upgrade").size() == 2);
    Job second =
        jobs("upgrade").stream()
            .filter(
                j ->
                    IMAGE_2.equals(
                        j.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()))
            .findFirst()
            .orElseThrow();
    cluster.podRunning(second);
    awaitPhase("orders", Phase.Migrating);

    intervalPassed("orders");
    assertThat(jobs("check")).as("no check while the run is under way").isEmpty();

    cluster.succeed(second, withSchema(result("3", "3"), FP_3, TABLES_1));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.dbm("orders").getStatus().getDrift().getFingerprint()).isEqualTo(FP_3);
    assertThat(jobs("check")).as("the new fingerprint was recorded just now").isEmpty();
  }

  @Test
  void blockHoldsANewRunUntilTheLiveFingerprintIsAcknowledged() throws Exception {
    ready(drifting("orders", IMAGE_1, OnDrift.Block));
    driftFound("orders");
    assertThat(drifted("orders").getMessage())
        .contains("a new run waits until spec.drift.acknowledged is set to " + FP_2);
    assertThat(cluster.dbm("orders").getStatus().getPhase())
        .as("no run is needed: nothing to block")
        .isEqualTo(Phase.Ready);

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          return d;
        });
    awaitPhase("orders", Phase.DriftBlocked);
    DatabaseMigration blocked = cluster.dbm("orders");
    Condition ready = condition(blocked, Conditions.READY);
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("DriftBlocked");
    assertThat(ready.getMessage())
        .contains("changed public.orders", "set spec.drift.acknowledged: " + FP_2);
    assertThat(ready.getObservedGeneration()).isEqualTo(blocked.getMetadata().getGeneration());
    assertThat(condition(blocked, Conditions.STALLED).getStatus()).isEqualTo("False");
    assertThat(jobs("upgrade")).as("the new run waits").hasSize(1);
    eventually().until(() -> paused("orders-api"));
    eventually().until(() -> cluster.eventReasons().contains("DriftBlocked"));

    edit(
        "orders",
        d -> {
          d.getSpec().getDrift().setAcknowledged(FP_2);
          return d;
        });
    eventually().until(() -> jobs("upgrade").size() == 2);
    assertThat(drifted("orders").getReason()).isEqualTo("DriftAcknowledged");
    Job second =
        jobs("upgrade").stream()
            .filter(j -> cluster.dbm("orders").getStatus().getActiveRun() != null)
            .filter(
                j ->
                    j.getMetadata()
                        .getName()
                        .equals(cluster.dbm("orders").getStatus().getActiveRun().getJob()))
            .findFirst()
            .orElseThrow();
    cluster.succeed(second, withSchema(result("3", "3"), FP_3, TABLES_1));
    awaitPhase("orders", Phase.Ready);
    DatabaseMigration after = cluster.dbm("orders");
    assertThat(after.getStatus().getDrift().getFingerprint()).isEqualTo(FP_3);
    assertThat(after.getStatus().getDrift().getLive()).isNull();
    Condition drifted = drifted("orders");
    assertThat(drifted.getStatus()).isEqualTo("False");
    assertThat(drifted.getReason()).isEqualTo("SchemaRecorded");
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void reportDoesNotHoldARun() throws Exception {
    ready(drifting("orders", IMAGE_1, OnDrift.Report));
    driftFound("orders");
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_2);
          return d;
        });
    eventually().until(() -> jobs("upgrade").size() == 2);
    assertThat(cluster.dbm("orders").getStatus().getPhase()).isNotEqualTo(Phase.DriftBlocked);
  }

  @Test
  void aCheckThatFindsAMigrationRunningIsSkippedNotDrift() throws Exception {
    ready(drifting("orders", IMAGE_1, OnDrift.Block));
    intervalPassed("orders");
    Job check = awaitCheck("orders");
    cluster.fail(
        check,
        11,
        "{\"tool\":\"flyway\",\"direction\":\"check\",\"skipped\":\"MigrationRunning\","
            + "\"applied\":[]}");
    eventually()
        .until(
            () ->
                CheckOutcome.Skipped
                    == cluster.dbm("orders").getStatus().getDrift().getCheck().getOutcome());
    Condition drifted = drifted("orders");
    assertThat(drifted.getStatus()).isEqualTo("False");
    assertThat(drifted.getReason()).isEqualTo("SchemaRecorded");
    assertThat(cluster.eventReasons()).doesNotContain("DriftDetected", "DriftCheckFailed");
  }
}
