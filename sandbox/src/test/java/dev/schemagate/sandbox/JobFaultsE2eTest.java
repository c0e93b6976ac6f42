package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.LimitRangeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.ResourceQuotaBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the real API server, admission, the scheduler, the kubelet and the garbage collector do to a
 * run, and what a user sees of it, within seconds: a Job the API server refuses (422, a quota's
 * 403), pods refused (quota, LimitRange), a pod no node fits, PodSecurity {@code restricted}, an
 * image that runs as root, a Job deleted mid-run, and the DatabaseMigration deleted with foreground
 * propagation while its Job runs.
 */
@ExtendWith(E2e.Reporter.class)
class JobFaultsE2eTest {
  static String good;
  static String slow;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(
        E2e.sandbox.cluster instanceof RealCluster,
        "admission, the scheduler and the garbage collector are the real control plane's");
    good = E2e.runnerImage("e2e/app-user:4", E2e.exampleMigrations());
    slow =
        E2e.runnerImage(
            "e2e/faults-slow:2",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE slow_t (id int);",
                "V2__wait.sql",
                "SELECT pg_sleep(6);"));
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
    world.secret("orders-db", world.url());
  }

  /** Within seconds, not after the Job's deadline. */
  static org.awaitility.core.ConditionFactory withinSeconds() {
    return org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100));
  }

  void quota(String name, String resource, String amount) {
    world
        .client()
        .resourceQuotas()
        .inNamespace(world.ns)
        .resource(
            new ResourceQuotaBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .withNewSpec()
                .addToHard(resource, new Quantity(amount))
                .endSpec()
                .build())
        .create();
    // the quota controller computes its usage first; until then admission refuses everything
    eventually()
        .until(
            () -> {
              ResourceQuota q =
                  world.client().resourceQuotas().inNamespace(world.ns).withName(name).get();
              return q.getStatus() != null
                  && q.getStatus().getHard() != null
                  && q.getStatus().getHard().containsKey(resource);
            });
  }

  @Test
  void aJobTheApiServerRejectsIsReportedWithItsMessageAndStartsOnceTheSpecIsFixed()
      throws Exception {
    world.deployment("orders-api", "shop/orders-api:1");
    Map<String, Object> spec = spec(good, "latest", "orders-db", "orders-api");
    spec.put("job", Map.of("podLabels", Map.of("team", "shop orders")));
    world.migration("orders", spec);

    withinSeconds().until(() -> "JobRejected".equals(world.stalled("orders")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("(422)", "Invalid value: \"shop orders\"");
    assertThat(world.phase("orders")).isEqualTo("Failed");
    assertThat(world.jobs()).isEmpty();
    assertThat(world.paused("orders-api")).as("the app stays held").isTrue();
    eventually().until(() -> !world.events("JobRejected").isEmpty());

    world.editSpec("orders", s -> s.remove("job"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).hasSize(1);
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  void aJobAQuotaRefusesStartsOnceTheQuotaIsLifted() throws Exception {
    quota("no-jobs", "count/jobs.batch", "0");
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(good, "latest", "orders-db", "orders-api"));

    withinSeconds().until(() -> "JobRejected".equals(world.stalled("orders")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("(403)", "exceeded quota: no-jobs");
    assertThat(world.paused("orders-api")).isTrue();

    world.client().resourceQuotas().inNamespace(world.ns).withName("no-jobs").delete();
    Instant lifted = Instant.now();
    eventually().until(() -> !world.jobs().isEmpty());
    System.out.printf(
        "JobRejected: the Job was created %d ms after the quota was lifted%n",
        Duration.between(lifted, Instant.now()).toMillis());
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).as("one Job, however many times it was refused").hasSize(1);
  }

  @Test
  void podsAQuotaRefusesAreReportedWithinSecondsAndTheRunGoesOnOnceItIsLifted() throws Exception {
    quota("no-pods", "pods", "0");
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(good, "latest", "orders-db", "orders-api"));
    Instant applied = Instant.now();

    withinSeconds().until(() -> "PodsRejected".equals(world.stalled("orders")));
    System.out.printf(
        "PodsRejected: reported %d ms after the DatabaseMigration was applied%n",
        Duration.between(applied, Instant.now()).toMillis());
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("exceeded quota: no-pods", "ResourceQuota");
    eventually().until(() -> !world.events("PodsRejected").isEmpty());
    assertThat(world.paused("orders-api")).isTrue();

    world.client().resourceQuotas().inNamespace(world.ns).withName("no-pods").delete();
    // the Job controller tries again with its own backoff (at most a minute)
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).hasSize(1);
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  void aPodALimitRangeRefusesIsReportedAndASpecFixReplacesItsJob() {
    world
        .client()
        .limitRanges()
        .inNamespace(world.ns)
        .resource(
            new LimitRangeBuilder()
                .withNewMetadata()
                .withName("small")
                .endMetadata()
                .withNewSpec()
                .addNewLimit()
                .withType("Container")
                .addToMax("cpu", new Quantity("500m"))
                .endLimit()
                .endSpec()
                .build())
        .create();
    Map<String, Object> spec = spec(good, "latest", "orders-db");
    spec.put("job", Map.of("resources", Map.of("limits", Map.of("cpu", "2"))));
    world.migration("orders", spec);

    withinSeconds().until(() -> "PodsRejected".equals(world.stalled("orders")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("maximum cpu usage per Container is 500m", "spec.job");
    String refused = world.jobs().get(0).getMetadata().getName();

    world.editSpec(
        "orders", s -> s.put("job", Map.of("resources", Map.of("limits", Map.of("cpu", "500m")))));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs())
        .extracting(j -> j.getMetadata().getName())
        .as("the refused Job was replaced")
        .doesNotContain(refused)
        .hasSize(1);
    assertThat(world.history("orders").get(1).get("reason")).isEqualTo("PodsRejected");
  }

  @Test
  void aPodNoNodeFitsIsReportedWithinSecondsAndASpecFixReplacesItsJobAndItsPod() {
    Map<String, Object> spec = spec(good, "latest", "orders-db");
    spec.put("job", Map.of("nodeSelector", Map.of("disktype", "ssd")));
    world.migration("orders", spec);
    Instant applied = Instant.now();

    withinSeconds().until(() -> "PodUnschedulable".equals(world.stalled("orders")));
    System.out.printf(
        "PodUnschedulable: reported %d ms after the DatabaseMigration was applied%n",
        Duration.between(applied, Instant.now()).toMillis());
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("didn't match Pod's node affinity/selector", "spec.job.nodeSelector");
    String pending = world.jobPods().get(0).getMetadata().getName();

    world.editSpec("orders", s -> s.remove("job"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.jobs()).hasSize(1);
    eventually()
        .untilAsserted(
            () ->
                assertThat(world.jobPods())
                    .extracting(p -> p.getMetadata().getName())
                    .as("the replaced Job's pod went with it")
                    .doesNotContain(pending));
  }

  @Test
  void theJobPassesPodSecurityRestrictedAsTheApiServerEnforcesIt() throws Exception {
    world
        .client()
        .namespaces()
        .withName(world.ns)
        .edit(
            n -> {
              n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
              n.getMetadata()
                  .getLabels()
                  .put("pod-security.kubernetes.io/enforce-version", "latest");
              return n;
            });
    world.migration("orders", spec(good, "latest", "orders-db"));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.events("PodsRejected")).isEmpty();
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
  }

  @Test
  void anImageThatRunsAsRootHasItsOwnReasonAndRunsWithRunAsUser() throws Exception {
    String root = E2e.runnerImage(E2e.sandbox, "e2e/root:4", E2e.exampleMigrations(), "");
    String named = E2e.runnerImage(E2e.sandbox, "e2e/named-user:4", E2e.exampleMigrations(), "app");
    E2e other = new E2e().createDatabase();
    other.secret("orders-db", other.url());
    world.migration("orders", spec(root, "latest", "orders-db"));
    other.migration("orders", spec(named, "latest", "orders-db"));

    withinSeconds().until(() -> "NonRootUserRequired".equals(world.stalled("orders")));
    withinSeconds().until(() -> "NonRootUserRequired".equals(other.stalled("orders")));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("image will run as root", "set spec.job.runAsUser")
        .doesNotContain("Secret");
    assertThat((String) other.condition("orders", "Stalled").get("message"))
        .contains("non-numeric user (app)", "set spec.job.runAsUser");
    eventually().until(() -> !world.events("NonRootUserRequired").isEmpty());

    world.editSpec("orders", s -> s.put("job", Map.of("runAsUser", 1000)));
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("4");
  }

  @Test
  void aJobDeletedMidRunIsRecordedAndTheRunStartsAgainOnce() throws Exception {
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually()
        .until(
            () ->
                world.jobPods().stream().anyMatch(p -> "Running".equals(p.getStatus().getPhase())));
    Job first = world.jobs().get(0);

    // as kubectl delete job does: background propagation, the garbage collector stops its pod
    world.client().resource(first).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
    eventually().until(() -> !world.history("orders").isEmpty());
    assertThat(world.history("orders").get(0))
        .satisfies(
            h -> {
              assertThat(h.get("reason")).isEqualTo("JobDeleted");
              assertThat(h.get("outcome"))
                  .as("an unknown outcome is no success")
                  .isEqualTo("Failed");
            });
    assertThat(world.paused("orders-api")).isTrue();
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.history("orders"))
        .extracting(h -> h.get("reason"))
        .containsExactly("MigrationSucceeded", "JobDeleted");
    assertThat(world.jobs())
        .singleElement()
        .satisfies(
            j -> assertThat(j.getMetadata().getName()).isNotEqualTo(first.getMetadata().getName()));
    assertThat(world.events("JobDeleted")).hasSize(1);
    assertThat(world.events("RunStarted")).as("the next run started once").hasSize(2);
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  void deletedWithForegroundPropagationWhileItsJobRunsTheRunEndsBeforeTheAppIsReleased()
      throws Exception {
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration("orders", spec(slow, "latest", "orders-db", "orders-api"));
    eventually()
        .until(
            () ->
                world.jobPods().stream().anyMatch(p -> "Running".equals(p.getStatus().getPhase())));

    // Argo CD prunes with foreground deletion: the garbage collector deletes dependents first
    world.dbm("orders").withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
    eventually()
        .until(
            () ->
                "DeletionWaitsForRun"
                    .equals(world.condition("orders", "Reconciling").get("reason")));
    // whether the app was paused, read while the migration's pod still ran: a sample counts only
    // when the pod was seen running after it was taken (the Job's conditions come later than the
    // pod's end: since 1.31 SuccessCriteriaMet first, Complete once the Job controller is done)
    List<Boolean> pausedWhileTheMigrationRan = new java.util.ArrayList<>();
    while (true) {
      boolean paused = world.paused("orders-api");
      if (!migrationPodRuns()) {
        break;
      }
      pausedWhileTheMigrationRan.add(paused);
      Thread.sleep(200);
    }
    assertThat(pausedWhileTheMigrationRan).isNotEmpty().containsOnly(true);
    eventually().until(() -> world.dbm("orders").get() == null);
    assertThat(world.paused("orders-api")).isFalse();
    assertThat(world.rows("SELECT max(version) FROM flyway_schema_history"))
        .as("the migration ran to its end: the garbage collector did not stop it")
        .containsExactly("2");
    eventually().until(() -> world.jobs().isEmpty());
    assertThat(world.events("DeletionWaitsForRun")).hasSize(1);
  }

  private boolean migrationPodRuns() {
    return world.jobPods().stream()
        .anyMatch(p -> !List.of("Succeeded", "Failed").contains(p.getStatus().getPhase()));
  }
}
