package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The security model end to end: the policy the chart installed the operator with (E2e.POLICY), the
 * Job's bounds as the API server admitted them, a downgrade that runs the digest that ran (the
 * kubelet reports image IDs), the roles people get, and the sentinel password with a custom
 * command.
 */
@ExtendWith(E2e.Reporter.class)
class SecurityE2eTest {
  static String pinned;
  static String custom;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    Sandbox sandbox = E2e.sandbox();
    pinned = E2e.runnerImage("e2e/pinned:4", E2e.exampleMigrations());
    // the same image under another tag: a registry keeps a digest after its tag moves
    sandbox.runnerImage("e2e/pinned:build-1", sandbox.work.resolve("images/e2e-pinned-4"));
    Path dir = Files.createDirectories(sandbox.work.resolve("images/custom-tool"));
    custom = "e2e/custom-tool:1";
    sandbox.pythonImage(custom, dir, Map.of());
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void anImageOutsideThePolicyGetsNoJobAndTheAppStaysHeld() throws Exception {
    world.secret("orders-db", world.url());
    world.deployment("orders-api", "shop/orders-api:1");
    world.migration(
        "orders", spec("elsewhere.example.org/migrations:1", "latest", "orders-db", "orders-api"));
    eventually()
        .until(() -> "PolicyViolation".equals(world.condition("orders", "Stalled").get("reason")));
    assertThat(world.phase("orders")).isEqualTo("Failed");
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains(
            "spec.image elsewhere.example.org/migrations:1 is not allowed: the policy allows images"
                + " matching e2e/*, registry.example.com/*");
    eventually().until(() -> world.eventReasons().contains("PolicyViolation"));
    assertThat(world.paused("orders-api")).as("the app is held").isTrue();
    Thread.sleep(1000);
    assertThat(world.jobs()).as("no Job").isEmpty();

    world.editSpec(
        "orders",
        s -> {
          s.put("image", pinned);
        });
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.paused("orders-api")).isFalse();
  }

  @Test
  void aJobRunsAsAnAllowedServiceAccountWithoutItsTokenAndWithinItsBounds() throws Exception {
    world
        .client()
        .serviceAccounts()
        .inNamespace(world.ns)
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("e2e-migrator")
                .endMetadata()
                .build())
        .create();
    world.secret("orders-db", world.url());
    Map<String, Object> refused = spec(pinned, "2", "orders-db");
    refused.put("job", Map.of("serviceAccountName", "kube-admin-ish"));
    world.migration("refused", refused);
    eventually()
        .until(() -> "PolicyViolation".equals(world.condition("refused", "Stalled").get("reason")));
    assertThat((String) world.condition("refused", "Stalled").get("message"))
        .contains(
            "spec.job.serviceAccountName kube-admin-ish is not allowed: the policy allows the"
                + " service accounts default, e2e-migrator");

    Map<String, Object> allowed = spec(pinned, "2", "orders-db");
    allowed.put("job", Map.of("serviceAccountName", "e2e-migrator", "tmpSizeLimit", "64Mi"));
    world.migration("orders", allowed);
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    Job job =
        world.jobs().stream()
            .filter(j -> j.getMetadata().getName().startsWith("orders-"))
            .findFirst()
            .orElseThrow();
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("e2e-migrator");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    var resources = pod.getContainers().get(0).getResources();
    assertThat(resources.getRequests()).containsEntry("memory", new Quantity("256Mi"));
    assertThat(resources.getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("512Mi"));
    assertThat(pod.getVolumes().get(0).getEmptyDir().getSizeLimit())
        .isEqualTo(new Quantity("64Mi"));
    assertThat(world.rows("SELECT max(version) FROM flyway_schema_history")).containsExactly("2");
  }

  /**
   * The kubelet reports each container's imageID; the history records the digest that ran, and a
   * downgrade runs it even after the tag moved to an image whose undo scripts are broken.
   */
  @Test
  void aDowngradeRunsTheDigestThatRanNotTheTagThatMoved() throws Exception {
    Assumptions.assumeTrue(
        E2e.KIND == Sandbox.Kind.REAL, "image IDs come from the sandbox's kubelet");
    world.secret("orders-db", world.url());
    Map<String, Object> spec = spec(pinned, "4", "orders-db");
    spec.put("downgrade", Map.of("policy", "Allow"));
    world.migration("orders", spec);
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    String pinnedImage = (String) world.history("orders").get(0).get("pinnedImage");
    assertThat(pinnedImage).matches("e2e/pinned@sha256:[0-9a-f]{64}");
    assertThat(world.status("orders").get("currentImage")).isEqualTo(pinnedImage);
    assertThat(world.history("orders").get(0).get("image")).isEqualTo(pinned);

    // the tag moves: e2e/pinned:4 is now an image whose undo scripts fail
    Map<String, String> broken = new LinkedHashMap<>(E2e.exampleMigrations());
    broken.put("U4__display_name_required.sql", "THIS IS NOT SQL;");
    broken.put("U3__add_display_name.sql", "THIS IS NOT SQL;");
    E2e.runnerImage("e2e/pinned:broken", broken);
    E2e.sandbox.runnerImage("e2e/pinned:4", E2e.sandbox.work.resolve("images/e2e-pinned-broken"));

    world.editSpec(
        "orders",
        s -> {
          s.put("targetRevision", "2");
        });
    eventually()
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && "2".equals(world.status("orders").get("currentRevision")));
    Job down =
        world.jobs().stream()
            .filter(
                j ->
                    "downgrade"
                        .equals(j.getMetadata().getAnnotations().get("schemagate.dev/direction")))
            .findFirst()
            .orElseThrow();
    assertThat(down.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(pinnedImage);
    assertThat(world.history("orders").get(0).get("pinnedImage")).isEqualTo(pinnedImage);
    assertThat(world.rows("SELECT max(version) FROM flyway_schema_history WHERE success"))
        .containsExactly("2");
  }

  /**
   * People's roles, aggregated by the real controller-manager: edit and admin may create
   * DatabaseMigrations, view may read them, and nobody but the operator may write their status.
   */
  @Test
  void editAndViewAggregateAndNeitherMayWriteStatus() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "RBAC needs the real API server");
    var client = world.client();
    for (String role : List.of("view", "edit", "admin")) {
      eventually()
          .until(
              () -> {
                ClusterRole aggregated = client.rbac().clusterRoles().withName(role).get();
                return aggregated.getRules().stream()
                    .anyMatch(r -> r.getResources().contains("databasemigrations"));
              });
    }
    Map<String, String> people = Map.of("alice", "edit", "bob", "view", "carol", "admin");
    people.forEach(
        (user, role) ->
            client
                .rbac()
                .roleBindings()
                .inNamespace(world.ns)
                .resource(
                    new RoleBindingBuilder()
                        .withMetadata(new ObjectMetaBuilder().withName(user).build())
                        .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", role)
                        .addNewSubject()
                        .withKind("User")
                        .withApiGroup("rbac.authorization.k8s.io")
                        .withName(user)
                        .endSubject()
                        .build())
                .create());
    assertThat(can("alice", "create", "")).isTrue();
    assertThat(can("alice", "delete", "")).isTrue();
    assertThat(can("alice", "update", "status")).as("edit writes no status").isFalse();
    assertThat(can("alice", "patch", "status")).isFalse();
    assertThat(can("bob", "get", "")).isTrue();
    assertThat(can("bob", "get", "status")).isTrue();
    assertThat(can("bob", "create", "")).as("view creates nothing").isFalse();
    assertThat(can("carol", "create", "")).isTrue();
    assertThat(can("carol", "update", "status")).as("admin writes no status either").isFalse();
    assertThat(can("carol", "patch", "status")).isFalse();
    assertThat(canAs(ChartOperator.USER, "update", "status")).as("the operator does").isTrue();
  }

  boolean can(String user, String verb, String subresource) {
    return canAs(user, verb, subresource);
  }

  boolean canAs(String user, String verb, String subresource) {
    return Boolean.TRUE.equals(
        world
            .client()
            .authorization()
            .v1()
            .subjectAccessReview()
            .create(
                new SubjectAccessReviewBuilder()
                    .withNewSpec()
                    .withUser(user)
                    .withNewResourceAttributes()
                    .withNamespace(world.ns)
                    .withGroup("schemagate.dev")
                    .withResource("databasemigrations")
                    .withSubresource(subresource)
                    .withVerb(verb)
                    .endResourceAttributes()
                    .endSpec()
                    .build())
            .getStatus()
            .getAllowed());
  }

  /**
   * The sentinel-password scenario with a custom command, which prints the database URL and reports
   * it, with password=..., in its result: the operator's status, Events, log and metrics hold no
   * encoding of it. (The Job's own log and termination message are the command's: a custom command
   * prints what it prints.)
   */
  @Test
  void aSentinelPasswordReportedByACustomCommandAppearsNowhereTheOperatorWrites() throws Exception {
    String sentinel = "Sentinel@" + world.ns + "/pw";
    String url =
        E2e.sandbox
            .database
            .url("postgresql", world.database)
            .replace(":postgres@", ":" + sentinel.replace("@", "%40").replace("/", "%2F") + "@");
    world
        .client()
        .secrets()
        .inNamespace(world.ns)
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withName("orders-db")
                .endMetadata()
                .addToStringData("DATABASE_URL", url)
                .addToStringData("PGPASSWORD", sentinel)
                .build())
        .create();
    Map<String, Object> spec = spec(custom, "7", "orders-db");
    spec.put("tool", "custom");
    spec.put(
        "command",
        List.of(
            "/bin/sh",
            "-c",
            "echo \"connecting to $DATABASE_URL\"; printf '{\"message\":\"could not migrate %s:"
                + " password=%s\"}' \"$DATABASE_URL\" \"$PGPASSWORD\" >\"$SCHEMAGATE_RESULT_FILE\";"
                + " exit 4"));
    world.migration("orders", spec);
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    eventually().until(() -> world.eventReasons().contains("RunFailed"));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("could not migrate postgresql://postgres:*****@", "password=*****");
    world.assertNowhere(sentinel, false);
  }
}
