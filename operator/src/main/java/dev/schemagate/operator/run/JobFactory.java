package dev.schemagate.operator.run;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Direction;
import dev.schemagate.api.JobOptions;
import dev.schemagate.api.LocksSpec;
import dev.schemagate.api.Tool;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Builds every Job of the operator's, a run, a plan or a drift check, whole: a pure function of the
 * resource, the Job's inputs and the defaults, which no caller changes afterwards. A run's Job has
 * no owner reference while it runs, so that no cascading deletion of its DatabaseMigration (Argo CD
 * prunes with foreground deletion) kills a migration mid-way; it gets one once its run is recorded
 * ({@link RunCodec#ownerReference}). A plan or a check changes nothing: its Job is owned from the
 * start, and goes with its DatabaseMigration.
 */
public final class JobFactory {
  public static final String CONTAINER = "migrate";
  public static final String RESULT_FILE = "/dev/termination-log";
  static final long NON_ROOT_GROUP = 65532;

  /**
   * The longest a drift check Job may run: it reads the catalog, and a run that is due waits for it
   * to end.
   */
  public static final long CHECK_DEADLINE_SECONDS = 120;

  private JobFactory() {}

  /** The Job of these inputs: spec.job over the operator's defaults. */
  public static Job desired(DatabaseMigration dbm, RunInputs run, JobDefaults defaults) {
    long defaultDeadlineSeconds = defaults.deadlineSeconds();
    DatabaseMigrationSpec spec = dbm.getSpec();
    JobOptions options = spec.getJob() == null ? new JobOptions() : spec.getJob();
    String name = dbm.getMetadata().getName();

    Map<String, String> labels = RunCodec.labels(run);
    Map<String, String> podLabels = new LinkedHashMap<>();
    if (options.getPodLabels() != null) {
      podLabels.putAll(options.getPodLabels());
    }
    podLabels.putAll(labels);
    Map<String, String> podAnnotations = new LinkedHashMap<>();
    if (options.getPodAnnotations() != null) {
      podAnnotations.putAll(options.getPodAnnotations());
    }
    podAnnotations.putAll(RunCodec.podAnnotations(name, run));

    long deadline = deadlineSeconds(spec, defaultDeadlineSeconds);
    ResourceRequirements resources = resources(options.getResources(), defaults);
    Container container =
        container(
            spec, run, options, dbm.getMetadata().getNamespace() + "/" + name, deadline, resources);
    List<Container> initContainers = new ArrayList<>();
    List<Volume> volumes = new ArrayList<>();
    volumes.add(
        new VolumeBuilder()
            .withName("tmp")
            .withNewEmptyDir()
            .withSizeLimit(
                options.getTmpSizeLimit() != null
                    ? options.getTmpSizeLimit()
                    : defaults.tmpSizeLimit())
            .endEmptyDir()
            .build());
    if (spec.getTool() == Tool.ALEMBIC) {
      initContainers.add(AlembicKit.initContainer(defaults.alembicKit(), resources));
      container.getVolumeMounts().add(AlembicKit.mount());
      volumes.add(AlembicKit.volume());
    }
    if (run.direction() == Direction.CHECK) {
      deadline = Math.min(deadline, CHECK_DEADLINE_SECONDS);
    }

    return new JobBuilder()
        .withNewMetadata()
        .withName(run.jobName())
        .withNamespace(dbm.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(RunCodec.jobAnnotations(name, run))
        .withOwnerReferences(
            run.direction() == Direction.PLAN || run.direction() == Direction.CHECK
                ? List.of(RunCodec.ownerReference(dbm))
                : null)
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(options.getBackoffLimit())
        .withActiveDeadlineSeconds(deadline)
        .withPodFailurePolicy(podFailurePolicy(spec.getTool()))
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels)
        .withAnnotations(podAnnotations)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withServiceAccountName(blankToNull(options.getServiceAccountName()))
        .withImagePullSecrets(options.getImagePullSecrets())
        .withNodeSelector(options.getNodeSelector())
        .withTolerations(options.getTolerations())
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(options.getRunAsUser())
        .withFsGroup(NON_ROOT_GROUP)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withInitContainers(initContainers)
        .withContainers(container)
        .withVolumes(volumes)
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The Job controller's rules for a pod that failed, first match first (Kubernetes'
   * pkg/controller/job/pod_failure_policy.go): a pod with the condition DisruptionTarget (evicted
   * by a node drain, preempted, its node lost) is ignored, not counted against backoffLimit, and
   * the Job makes a new one once it has stopped (podReplacementPolicy Failed, the default with a
   * policy): the migration runs again from where the database is. The rule comes first, so that an
   * eviction's exit code never matches the next one. Then, for the runner and the Alembic wrapper,
   * whose exit codes the operator knows, an exit code no retry can change fails the Job at once
   * (FailJob), whatever spec.job.backoffLimit allows: a configuration, validation or SQL failure, a
   * migration that needs a repair (never tried again by itself), several heads, a plan that
   * changed, a database ahead of the image. The other codes (an unreachable database, a lock held)
   * count against backoffLimit like any failure. A custom command's codes mean what it says they
   * do: it gets the first rule only.
   */
  static PodFailurePolicy podFailurePolicy(Tool tool) {
    PodFailurePolicyBuilder policy =
        new PodFailurePolicyBuilder()
            .addNewRule()
            .withAction("Ignore")
            .addNewOnPodCondition()
            .withType("DisruptionTarget")
            .withStatus("True")
            .endOnPodCondition()
            .endRule();
    if (tool != Tool.CUSTOM) {
      policy
          .addNewRule()
          .withAction("FailJob")
          .withNewOnExitCodes()
          .withContainerName(CONTAINER)
          .withOperator("In")
          .withValues(RunnerExitCode.notRetried())
          .endOnExitCodes()
          .endRule();
    }
    return policy.build();
  }

  /** The Job's activeDeadlineSeconds: spec.job's, or the operator's default. */
  public static long deadlineSeconds(DatabaseMigrationSpec spec, long defaultDeadlineSeconds) {
    return spec.getJob() != null && spec.getJob().getActiveDeadlineSeconds() != null
        ? spec.getJob().getActiveDeadlineSeconds()
        : defaultDeadlineSeconds;
  }

  static Container container(
      DatabaseMigrationSpec spec,
      RunInputs run,
      JobOptions options,
      String migration,
      long deadlineSeconds,
      ResourceRequirements resources) {
    return new ContainerBuilder()
        .withName(CONTAINER)
        .withImage(run.image())
        .withCommand(ToolCommand.command(spec))
        .withArgs(ToolCommand.args(spec, run.direction(), run.targetRevision()))
        .withEnv(env(spec, run, migration, deadlineSeconds))
        .withEnvFrom(envFrom(spec))
        .withResources(resources)
        .withTerminationMessagePath(RESULT_FILE)
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withImagePullPolicy("IfNotPresent")
        .withSecurityContext(restricted())
        .addNewVolumeMount()
        .withName("tmp")
        .withMountPath("/tmp")
        .endVolumeMount()
        .build();
  }

  /**
   * Every container of a Job's: no privilege escalation, a read-only root, not root, no
   * capabilities (the restricted Pod Security Standard).
   */
  static SecurityContext restricted() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .build();
  }

  /**
   * spec.job.resources over the defaults, name by name; a request above its limit (the spec lowered
   * a limit below a default request) is lowered to the limit, so that the API server accepts it.
   */
  static ResourceRequirements resources(ResourceRequirements spec, JobDefaults defaults) {
    Map<String, Quantity> requests = new TreeMap<>(defaults.requests());
    Map<String, Quantity> limits = new TreeMap<>(defaults.limits());
    if (spec != null && spec.getRequests() != null) {
      requests.putAll(spec.getRequests());
    }
    if (spec != null && spec.getLimits() != null) {
      limits.putAll(spec.getLimits());
    }
    limits.forEach(
        (name, limit) -> {
          Quantity request = requests.get(name);
          if (request != null
              && request.getNumericalAmount().compareTo(limit.getNumericalAmount()) > 0) {
            requests.put(name, limit);
          }
        });
    ResourceRequirementsBuilder built =
        new ResourceRequirementsBuilder().withRequests(requests).withLimits(limits);
    if (spec != null && spec.getClaims() != null) {
      built.withClaims(spec.getClaims());
    }
    return built.build();
  }

  static List<EnvVar> env(
      DatabaseMigrationSpec spec, RunInputs run, String migration, long deadlineSeconds) {
    List<EnvVar> env = new ArrayList<>();
    if (spec.getEnv() != null) {
      env.addAll(spec.getEnv());
    }
    env.add(new EnvVar("SCHEMAGATE_TARGET_REVISION", run.targetRevision(), null));
    env.add(new EnvVar("SCHEMAGATE_DIRECTION", run.direction().word(), null));
    env.add(new EnvVar("SCHEMAGATE_MIGRATION", migration, null));
    env.add(new EnvVar("SCHEMAGATE_RUN_ID", run.id(), null));
    env.add(new EnvVar("SCHEMAGATE_RESULT_FILE", RESULT_FILE, null));
    env.add(new EnvVar("SCHEMAGATE_TOOL", spec.getTool().name().toLowerCase(), null));
    // the Job's activeDeadlineSeconds, so that lock retries stop in time to report; spec.locks
    env.add(new EnvVar("SCHEMAGATE_DEADLINE_SECONDS", Long.toString(deadlineSeconds), null));
    if (run.direction() == Direction.PLAN
        && spec.getPlan() != null
        && Boolean.TRUE.equals(spec.getPlan().getRehearse())) {
      env.add(new EnvVar("SCHEMAGATE_REHEARSE", "true", null));
    }
    LocksSpec locks = spec.getLocks();
    if (locks != null) {
      addIfSet(env, "SCHEMAGATE_LOCK_TIMEOUT", locks.getLockTimeout());
      addIfSet(
          env,
          "SCHEMAGATE_LOCK_RETRIES",
          locks.getRetries() == null ? null : locks.getRetries().toString());
      addIfSet(env, "SCHEMAGATE_STATEMENT_TIMEOUT", locks.getStatementTimeout());
      addIfSet(env, "SCHEMAGATE_RUN_LOCK_WAIT", locks.getRunLockWait());
    }
    if (spec.getTool() == Tool.ALEMBIC) {
      env.add(new EnvVar("PYTHONDONTWRITEBYTECODE", "1", null));
    }
    // a plan reports the hash of what it covers; a run that applies an approved plan checks, under
    // its run lock, that the hash of the same inputs is still the approved one
    if (run.direction() == Direction.PLAN || run.approvedPlan() != null) {
      env.add(new EnvVar("SCHEMAGATE_PLAN_INPUTS", run.planInputs(), null));
    }
    if (run.approvedPlan() != null) {
      env.add(new EnvVar("SCHEMAGATE_APPROVED_PLAN", run.approvedPlan(), null));
    }
    // an upgrade applies every migration, or holds the contract part back until the app has
    // rolled out (RunPart); a database without the tool's history is adopted at spec.baseline
    if (run.direction() == Direction.UPGRADE) {
      env.add(new EnvVar("SCHEMAGATE_CONTRACT", run.part().contractSetting(), null));
    }
    if ((run.direction() == Direction.UPGRADE || run.direction() == Direction.PLAN)
        && spec.getBaseline() != null
        && spec.getBaseline().getRevision() != null
        && !spec.getBaseline().getRevision().isBlank()) {
      env.add(new EnvVar("SCHEMAGATE_BASELINE", spec.getBaseline().getRevision(), null));
    }
    return env;
  }

  private static void addIfSet(List<EnvVar> env, String name, String value) {
    if (value != null && !value.isBlank()) {
      env.add(new EnvVar(name, value, null));
    }
  }

  static List<EnvFromSource> envFrom(DatabaseMigrationSpec spec) {
    if (spec.getDatabase() == null || spec.getDatabase().getSecretRef() == null) {
      return List.of();
    }
    return List.of(
        new EnvFromSourceBuilder()
            .withNewSecretRef()
            .withName(spec.getDatabase().getSecretRef().getName())
            .withOptional(false)
            .endSecretRef()
            .build());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
