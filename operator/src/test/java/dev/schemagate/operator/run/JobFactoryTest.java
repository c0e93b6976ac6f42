package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.JobOptions;
import dev.schemagate.api.LocksSpec;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Tool;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Job of a run and the command each tool runs. */
class JobFactoryTest {

  @Test
  void theJobFollowsTheContract() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "0005", "orders-api"));
    dbm.getSpec().setEnv(new ArrayList<>(List.of(new EnvVar("LOG_LEVEL", "debug", null))));
    RunInputs run =
        new RunInputs(
            "abcdef0123",
            "orders-abcdef0123",
            Direction.UPGRADE,
            IMAGE_1,
            IMAGE_1,
            "0005",
            "0003",
            1);
    Job job = JobFactory.desired(dbm, run, JobDefaults.STANDARD);
    var pod = job.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);
    assertThat(job.getMetadata().getOwnerReferences())
        .as("a running Job has no owner: a cascading deletion must not stop a migration")
        .isNullOrEmpty();
    assertThat(RunCodec.ownerReference(dbm))
        .satisfies(
            o -> {
              assertThat(o.getController()).isTrue();
              assertThat(o.getUid()).isEqualTo("uid-1");
            });
    assertThat(pod.getSecurityContext().getRunAsUser()).as("the image's own USER").isNull();
    assertThat(job.getSpec().getBackoffLimit()).isZero();
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
    assertThat(job.getSpec().getPodFailurePolicy().getRules())
        .first()
        .as("an eviction or preemption first: ignored, whatever its exit code")
        .satisfies(
            r -> {
              assertThat(r.getAction()).isEqualTo("Ignore");
              assertThat(r.getOnPodConditions().get(0).getType()).isEqualTo("DisruptionTarget");
            });
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(container.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(container.getCommand()).as("flyway: the runner's own entrypoint").isNullOrEmpty();
    assertThat(container.getArgs()).containsExactly("migrate", "--target", "0005");
    assertThat(container.getEnvFrom())
        .singleElement()
        .satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("orders-db"));
    assertThat(container.getEnv())
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "LOG_LEVEL=debug",
            "SCHEMAGATE_TARGET_REVISION=0005",
            "SCHEMAGATE_DIRECTION=upgrade",
            "SCHEMAGATE_MIGRATION=shop/orders",
            "SCHEMAGATE_RUN_ID=abcdef0123",
            "SCHEMAGATE_RESULT_FILE=/dev/termination-log");
  }

  @Test
  void runAsUserSetsTheUserThePodRunsAs() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "head"));
    dbm.getSpec().setJob(new dev.schemagate.api.JobOptions());
    dbm.getSpec().getJob().setRunAsUser(1000L);
    RunInputs run =
        new RunInputs(
            "abcdef0123",
            "orders-abcdef0123",
            Direction.UPGRADE,
            IMAGE_1,
            IMAGE_1,
            "head",
            null,
            1);
    var pod = JobFactory.desired(dbm, run, JobDefaults.STANDARD).getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(1000L);
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
  }

  @Test
  void theLockSettingsReachTheJobAndTheirExitCodesHaveReasons() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "0005", "orders-api"));
    RunInputs run =
        new RunInputs(
            "abcdef0123",
            "orders-abcdef0123",
            Direction.UPGRADE,
            IMAGE_1,
            IMAGE_1,
            "0005",
            "0003",
            1);
    var plain =
        JobFactory.desired(dbm, run, JobDefaults.withDeadline(600))
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getEnv();
    assertThat(plain)
        .extracting(EnvVar::getName)
        .contains("SCHEMAGATE_DEADLINE_SECONDS")
        .doesNotContain("SCHEMAGATE_LOCK_TIMEOUT");
    LocksSpec locks = new LocksSpec();
    locks.setLockTimeout("500ms");
    locks.setRetries(3);
    locks.setStatementTimeout("5m");
    locks.setRunLockWait("30s");
    dbm.getSpec().setLocks(locks);
    var env =
        JobFactory.desired(dbm, run, JobDefaults.withDeadline(600))
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0)
            .getEnv();
    assertThat(env)
        .extracting(e -> e.getName() + "=" + e.getValue())
        .contains(
            "SCHEMAGATE_DEADLINE_SECONDS=600",
            "SCHEMAGATE_LOCK_TIMEOUT=500ms",
            "SCHEMAGATE_LOCK_RETRIES=3",
            "SCHEMAGATE_STATEMENT_TIMEOUT=5m",
            "SCHEMAGATE_RUN_LOCK_WAIT=30s");
    assertThat(RunnerExitCode.reasonFor(6)).isEqualTo(Reason.MigrationLockHeld);
    assertThat(RunnerExitCode.reasonFor(7)).isEqualTo(Reason.LockTimeout);
    assertThat(RunnerExitCode.reasonFor(8)).isEqualTo(Reason.RepairNeeded);
    assertThat(RunnerExitCode.reasonFor(9)).isEqualTo(Reason.MultipleHeads);
  }

  @Test
  void theCommandPerTool() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "head"));
    dbm.getSpec().setTool(Tool.ALEMBIC);
    assertThat(ToolCommand.command(dbm.getSpec()))
        .containsExactly("/bin/sh", "/schemagate/bin/schemagate-alembic");
    assertThat(ToolCommand.args(dbm.getSpec(), Direction.UPGRADE, "head")).isNull();
    dbm.getSpec().setTool(Tool.CUSTOM);
    dbm.getSpec().setCommand(List.of("/app/migrate", "--yes"));
    assertThat(ToolCommand.command(dbm.getSpec())).containsExactly("/app/migrate", "--yes");
    dbm.getSpec().setTool(Tool.FLYWAY);
    dbm.getSpec().setCommand(null);
    assertThat(ToolCommand.args(dbm.getSpec(), Direction.DOWNGRADE, "3"))
        .containsExactly("undo", "--target", "3");
  }

  /**
   * Issue 27: an Alembic Job's pod carries a command, not a program: the kit comes from an init
   * container of the kit's image into an emptyDir, read-only in the migration container. Before,
   * the pod spec held the whole wrapper (28 KB) in its sh -c argument.
   */
  @Test
  void anAlembicJobGetsTheKitFromAnInitContainerAndItsPodSpecIsSmall() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "head", "orders-api"));
    dbm.getSpec().setTool(Tool.ALEMBIC);
    String kit = "images.example.org/schemagate/alembic-kit:0.1.0";
    RunInputs run =
        new RunInputs(
            "abcdef0123", "orders-abcdef0123", Direction.UPGRADE, IMAGE_1, IMAGE_1, "head", "", 1);
    var pod =
        JobFactory.desired(dbm, run, JobDefaults.STANDARD.withAlembicKit(kit))
            .getSpec()
            .getTemplate()
            .getSpec();
    assertThat(pod.getInitContainers()).hasSize(1);
    var init = pod.getInitContainers().get(0);
    assertThat(init.getImage()).isEqualTo(kit);
    assertThat(init.getCommand())
        .containsExactly(
            "/bin/busybox", "cp", "-R", "/opt/schemagate/alembic-kit/.", "/schemagate/");
    assertThat(init.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(init.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    var migrate = pod.getContainers().get(0);
    assertThat(migrate.getVolumeMounts())
        .anySatisfy(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/schemagate");
              assertThat(m.getReadOnly()).isTrue();
            });
    assertThat(pod.getVolumes())
        .anySatisfy(
            v -> {
              assertThat(v.getName()).isEqualTo("schemagate-kit");
              assertThat(v.getEmptyDir()).isNotNull();
            });
    int bytes = Serialization.asJson(pod).getBytes(StandardCharsets.UTF_8).length;
    System.out.printf("the Alembic Job's pod spec: %d bytes of JSON%n", bytes);
    assertThat(bytes).as("the Alembic Job's pod spec, in bytes").isLessThan(4096);

    dbm.getSpec().setTool(Tool.FLYWAY);
    var flyway =
        JobFactory.desired(dbm, run, JobDefaults.STANDARD.withAlembicKit(kit))
            .getSpec()
            .getTemplate()
            .getSpec();
    assertThat(flyway.getInitContainers()).as("only an Alembic Job gets the kit").isEmpty();
  }

  @Test
  void theJobIsBoundedAndSpecJobOverridesEachBoundByName() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "5"));
    RunInputs run =
        new RunInputs("id", "orders-id", Direction.UPGRADE, IMAGE_1, IMAGE_1, "5", null, 1);
    JobDefaults defaults = JobDefaults.of(900, "100m", "256Mi", "1", "512Mi", "256Mi");
    var pod = JobFactory.desired(dbm, run, defaults).getSpec().getTemplate().getSpec();
    var resources = pod.getContainers().get(0).getResources();
    assertThat(resources.getRequests())
        .containsOnly(
            java.util.Map.entry("cpu", new Quantity("100m")),
            java.util.Map.entry("memory", new Quantity("256Mi")));
    assertThat(resources.getLimits())
        .containsOnly(
            java.util.Map.entry("cpu", new Quantity("1")),
            java.util.Map.entry("memory", new Quantity("512Mi")));
    assertThat(pod.getVolumes().get(0).getEmptyDir().getSizeLimit())
        .isEqualTo(new Quantity("256Mi"));
    assertThat(
            JobFactory.desired(dbm, run, JobDefaults.STANDARD)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getResources())
        .as("the standard defaults")
        .isEqualTo(resources);

    dbm.getSpec().setJob(new JobOptions());
    dbm.getSpec()
        .getJob()
        .setResources(
            new ResourceRequirementsBuilder()
                .addToLimits("memory", new Quantity("128Mi"))
                .addToRequests("cpu", new Quantity("2"))
                .addToLimits("cpu", new Quantity("4"))
                .addToRequests("ephemeral-storage", new Quantity("1Gi"))
                .build());
    dbm.getSpec().getJob().setTmpSizeLimit(new Quantity("2Gi"));
    pod = JobFactory.desired(dbm, run, defaults).getSpec().getTemplate().getSpec();
    resources = pod.getContainers().get(0).getResources();
    assertThat(resources.getRequests())
        .containsOnly(
            java.util.Map.entry("cpu", new Quantity("2")),
            java.util.Map.entry("memory", new Quantity("128Mi")),
            java.util.Map.entry("ephemeral-storage", new Quantity("1Gi")));
    assertThat(resources.getLimits())
        .containsOnly(
            java.util.Map.entry("cpu", new Quantity("4")),
            java.util.Map.entry("memory", new Quantity("128Mi")));
    assertThat(pod.getVolumes().get(0).getEmptyDir().getSizeLimit()).isEqualTo(new Quantity("2Gi"));

    JobDefaults none = JobDefaults.of(900, "none", null, "", "none", "none");
    pod =
        JobFactory.desired(withUid(migration("shop", "orders", IMAGE_1, "5")), run, none)
            .getSpec()
            .getTemplate()
            .getSpec();
    assertThat(pod.getContainers().get(0).getResources().getLimits()).isEmpty();
    assertThat(pod.getVolumes().get(0).getEmptyDir().getSizeLimit()).isNull();
  }

  /**
   * Issue 26, item 8: an exit code no retry changes fails the Job at once, whatever backoffLimit
   * allows (a repair must never be tried again by itself); an eviction never counts, whatever its
   * exit code, so its rule comes first. A custom command's codes are its own.
   */
  @Test
  void theExitCodesNoRetryChangesFailTheJobAtOnceAndAnEvictionNeverCounts() {
    for (Tool tool : List.of(Tool.FLYWAY, Tool.ALEMBIC)) {
      assertThat(JobFactory.podFailurePolicy(tool).getRules())
          .as(tool.toString())
          .satisfiesExactly(
              eviction -> {
                assertThat(eviction.getAction()).isEqualTo("Ignore");
                assertThat(eviction.getOnPodConditions())
                    .singleElement()
                    .satisfies(
                        c -> {
                          assertThat(c.getType()).isEqualTo("DisruptionTarget");
                          assertThat(c.getStatus()).isEqualTo("True");
                        });
              },
              fail -> {
                assertThat(fail.getAction()).isEqualTo("FailJob");
                assertThat(fail.getOnExitCodes().getContainerName())
                    .isEqualTo(JobFactory.CONTAINER);
                assertThat(fail.getOnExitCodes().getOperator()).isEqualTo("In");
                assertThat(fail.getOnExitCodes().getValues())
                    .as(
                        "configuration, validation, SQL, repair, heads, plan changed, ahead,"
                            + " baseline required")
                    .containsExactly(2, 3, 4, 8, 9, 10, 12, 13)
                    .doesNotContain(5, 6, 7, 11);
              });
    }
    assertThat(JobFactory.podFailurePolicy(Tool.CUSTOM).getRules())
        .singleElement()
        .satisfies(r -> assertThat(r.getAction()).isEqualTo("Ignore"));
  }
}
