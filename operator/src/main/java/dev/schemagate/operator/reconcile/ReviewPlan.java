package dev.schemagate.operator.reconcile;

import dev.schemagate.api.Approval;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.PlanResult;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.EventReason;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Step (spec.approval: Manual): before an upgrade runs, its plan. A plan Job (the same image, the
 * Job contract's direction plan) reports the pending migrations, their SQL and the plan hash; the
 * plan goes to status.plan, its SQL to a ConfigMap the DatabaseMigration owns; the run waits until
 * spec.approvedPlan equals the hash. New inputs (image, target, current revision, rehearse, retry)
 * make a new plan, so an approval of the old one runs nothing; the run's Job is given the approved
 * hash and checks, under its run lock, that it is still the plan (the database may have changed).
 */
public final class ReviewPlan {
  public static final String PLANNING = "Planning";
  public static final String AWAITING_APPROVAL = "AwaitingApproval";
  public static final String APPROVED = "Approved";
  public static final String FAILED = "Failed";

  /** The key of the plan's SQL in its ConfigMap. */
  public static final String SQL_KEY = "plan.sql";

  private ReviewPlan() {}

  /** The ConfigMap of a DatabaseMigration's plan: {@code <name>-plan}. */
  public static String configMapName(String migration) {
    return Names.prefix(migration, 253 - 5) + "-plan";
  }

  public static void apply(ReconcileState state, JobDefaults defaults) {
    DatabaseMigrationSpec spec = state.resource().getSpec();
    DatabaseMigrationStatus status = state.status();
    if (state.runUnderWay()) {
      return;
    }
    if (spec.getApproval() != Approval.Manual
        || !(state.decision() instanceof Decision.Start start)
        || start.run().direction() != Direction.UPGRADE) {
      if (status.getPlan() != null && status.getPlan().getAwaitingApproval() != null) {
        status.getPlan().setAwaitingApproval(null);
      }
      return;
    }
    RunInputs run = start.run();
    DatabaseMigration dbm = state.resource();
    boolean rehearse = spec.getPlan() != null && Boolean.TRUE.equals(spec.getPlan().getRehearse());
    String retry =
        dbm.getMetadata().getAnnotations() == null
            ? ""
            : dbm.getMetadata().getAnnotations().getOrDefault(RunPlanner.RETRY, "");
    String id =
        Names.hash(
            dbm.getMetadata().getUid(),
            "plan",
            run.image(),
            run.requestedImage(),
            run.targetRevision(),
            String.valueOf(run.fromRevision()),
            String.valueOf(status.getAppliedImage()),
            Boolean.toString(rehearse),
            retry);
    String jobName = Names.jobName(dbm.getMetadata().getName(), id);
    String inputs = inputs(run);

    PlanStatus plan = status.getPlan();
    if (plan == null || !id.equals(plan.getId())) {
      plan = new PlanStatus();
      plan.setId(id);
      plan.setJob(jobName);
      plan.setPhase(PLANNING);
      plan.setImage(run.image());
      plan.setTargetRevision(run.targetRevision());
      plan.setFromRevision(run.fromRevision());
      status.setPlan(plan);
    }
    if (PLANNING.equals(plan.getPhase())) {
      plan = observe(state, run, plan, inputs, defaults);
      if (plan == null) {
        return; // planning, or its pod is blocked: decided
      }
      status.setPlan(plan);
    }
    if (FAILED.equals(plan.getPhase())) {
      plan.setAwaitingApproval(null);
      state.decide(
          new Decision.Refused(
              Reasons.PLAN_FAILED,
              "the plan Job "
                  + plan.getJob()
                  + " failed: "
                  + plan.getMessage()
                  + ". Fix the cause, then change the spec or give annotation"
                  + " schemagate.dev/retry a new value",
              true));
      return;
    }
    String approved = spec.getApprovedPlan();
    if (plan.getHash().equals(approved)) {
      plan.setPhase(APPROVED);
      plan.setAwaitingApproval(null);
      plan.setMessage(null);
      state.approvedPlan(plan.getHash(), inputs);
      return; // the decided run starts, with the approved hash
    }
    plan.setPhase(AWAITING_APPROVAL);
    plan.setAwaitingApproval(plan.getHash());
    String message =
        "plan "
            + plan.getHash()
            + " awaits approval ("
            + plan.getSummary()
            + "): set spec.approvedPlan: "
            + plan.getHash()
            + " to run it; its SQL is in ConfigMap "
            + plan.getConfigMap()
            + (approved == null || approved.isBlank()
                ? ""
                : ". spec.approvedPlan "
                    + approved
                    + " is not this plan (the image, the target or the database changed since"
                    + " it was made): it runs nothing");
    plan.setMessage(message);
    state.decide(new Decision.AwaitingApproval(message));
  }

  /**
   * The plan Job: created when missing, followed while it runs, read when it ended. Returns the
   * plan when it is made or failed; null when the decision is made here (still planning).
   */
  private static PlanStatus observe(
      ReconcileState state, RunInputs run, PlanStatus plan, String inputs, JobDefaults defaults) {
    DatabaseMigration dbm = state.resource();
    String ns = state.namespace();
    String jobName = plan.getJob();
    String what = "the upgrade to " + run.targetRevision() + " with " + run.image();
    Job job = state.cluster().job(ns, jobName);
    if (job == null) {
      RunInputs planRun =
          new RunInputs(
              plan.getId(),
              jobName,
              Direction.PLAN,
              run.image(),
              run.requestedImage(),
              run.targetRevision(),
              run.fromRevision(),
              run.generation());
      Job desired = JobFactory.desired(dbm, planRun, defaults);
      desired.getMetadata().setOwnerReferences(List.of(RunCodec.ownerReference(dbm)));
      addEnv(desired, "SCHEMAGATE_PLAN_INPUTS", inputs);
      state.changes().createPlanJob(desired);
      state.events().tell(EventReason.PlanStarted, "started plan Job " + jobName + ": " + what);
      state.decide(new Decision.Planning("planning " + what + " (Job " + jobName + ")"));
      return null;
    }
    Collection<Pod> pods = state.cluster().pods(ns, plan.getId());
    RunState observed =
        RunObserver.observe(
            jobName,
            job,
            pods,
            state.cluster().failedCreates(job),
            dbm.getSpec().getTool(),
            state.now());
    if (observed instanceof RunState.Blocked blocked) {
      state.decide(new Decision.Refused(blocked.reason(), blocked.message(), true));
      return null;
    }
    if (observed instanceof RunState.Failed failed) {
      PlanStatus out = copy(plan);
      out.setPhase(FAILED);
      out.setMessage(failed.reason() + ": " + failed.message());
      state.events().tell(EventReason.PlanFailed, "plan Job " + jobName + " failed: " + failed);
      return out;
    }
    if (!(observed instanceof RunState.Succeeded)) {
      if (observed instanceof RunState.AwaitingResult awaiting && awaiting.retryAfter() != null) {
        state.lookAgainAfter(awaiting.retryAfter());
      }
      state.decide(new Decision.Planning("planning " + what + " (Job " + jobName + ")"));
      return null;
    }
    Optional<PlanResult.Read> read = PlanResult.read(RunObserver.terminationMessage(pods), plan);
    if (read.isEmpty()) {
      PlanStatus out = copy(plan);
      out.setPhase(FAILED);
      out.setMessage(
          "the Job succeeded but reported no plan: the image must follow the Job contract's"
              + " SCHEMAGATE_DIRECTION=plan (the schemagate runner and the Alembic wrapper do)");
      return out;
    }
    PlanStatus made = read.get().plan();
    made.setPhase(AWAITING_APPROVAL);
    made.setPlannedAt(Time.format(state.now()));
    made.setPlanSeconds(seconds(job));
    made.setConfigMap(configMapName(dbm.getMetadata().getName()));
    state.changes().writePlanConfigMap(configMap(dbm, made, read.get().sql()));
    state
        .events()
        .tell(EventReason.PlanReady, "plan " + made.getHash() + " made: " + made.getSummary());
    return made;
  }

  /** What the plan hash covers besides the database: the image and the target. */
  static String inputs(RunInputs run) {
    return "image=" + run.image() + " target=" + run.targetRevision();
  }

  private static PlanStatus copy(PlanStatus plan) {
    PlanStatus out = new PlanStatus();
    out.setId(plan.getId());
    out.setJob(plan.getJob());
    out.setImage(plan.getImage());
    out.setTargetRevision(plan.getTargetRevision());
    out.setFromRevision(plan.getFromRevision());
    return out;
  }

  /** Seconds from a Job's creation to its completion, when both are known. */
  static Long seconds(Job job) {
    String created = job.getMetadata().getCreationTimestamp();
    String completed = job.getStatus() == null ? null : job.getStatus().getCompletionTime();
    if (completed == null && job.getStatus() != null && job.getStatus().getConditions() != null) {
      // the Job controller tells SuccessCriteriaMet before it sets the completion time
      completed =
          job.getStatus().getConditions().stream()
              .filter(c -> "True".equals(c.getStatus()))
              .filter(c -> List.of("SuccessCriteriaMet", "Complete").contains(c.getType()))
              .map(c -> c.getLastTransitionTime())
              .filter(t -> t != null)
              .findFirst()
              .orElse(null);
    }
    if (created == null || completed == null) {
      return null;
    }
    try {
      Instant from = Time.parse(created);
      Instant to = Time.parse(completed);
      return Math.max(0, Duration.between(from, to).toSeconds());
    } catch (RuntimeException e) {
      return null;
    }
  }

  static ConfigMap configMap(DatabaseMigration dbm, PlanStatus plan, String sql) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("hash", plan.getHash());
    data.put("summary", plan.getSummary());
    data.put(
        SQL_KEY,
        sql
            + (Boolean.TRUE.equals(plan.getSqlTruncated())
                ? "\n-- (the beginning of "
                    + plan.getSqlBytes()
                    + " bytes of SQL: kubectl logs job/"
                    + plan.getJob()
                    + " has all of it, redacted)\n"
                : ""));
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(plan.getConfigMap())
        .withNamespace(dbm.getMetadata().getNamespace())
        .withLabels(Map.of("app.kubernetes.io/managed-by", "schemagate"))
        .withAnnotations(Map.of(RunCodec.MIGRATION, dbm.getMetadata().getName()))
        .withOwnerReferences(RunCodec.ownerReference(dbm))
        .endMetadata()
        .withData(data)
        .build();
  }

  /** Adds (or replaces) an environment variable of the Job's migration container. */
  static void addEnv(Job job, String name, String value) {
    var container = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    List<EnvVar> env = new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
    env.removeIf(e -> name.equals(e.getName()));
    env.add(new EnvVar(name, value, null));
    container.setEnv(env);
  }
}
