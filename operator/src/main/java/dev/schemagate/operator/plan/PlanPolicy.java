package dev.schemagate.operator.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.Approval;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Direction;
import dev.schemagate.api.PlanPhase;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.run.Observation;
import dev.schemagate.operator.run.PlanConfigMap;
import dev.schemagate.operator.run.PlanResult;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunPart;
import dev.schemagate.operator.run.RunState;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * spec.approval: Manual: before an upgrade runs, its plan. A plan Job (the same image, the Job
 * contract's direction plan) reports the pending migrations, their SQL and the plan hash; the plan
 * goes to status.plan, its SQL to a ConfigMap the DatabaseMigration owns; the run waits until
 * spec.approvedPlan equals the hash. New inputs (image, target, current revision, rehearse, retry)
 * make a new plan, so an approval of the old one runs nothing; the run's Job is given the approved
 * hash and checks, under its run lock, that it is still the plan (the database may have changed).
 * Pure.
 */
public final class PlanPolicy {
  private static final ObjectMapper JSON = new ObjectMapper();

  private PlanPolicy() {}

  /**
   * A hold ({@link RunPlanner#HOLDS}): with approval: Manual, an upgrade waits for its plan to be
   * made, then approved; approved, it starts with the plan's hash.
   */
  static Decision hold(DatabaseMigration dbm, Decision.Start start, UnderWay underWay) {
    DatabaseMigrationSpec spec = dbm.getSpec();
    RunInputs run = start.run();
    // the contract part of a release was in the plan approved for its expand part
    if (spec.getApproval() != Approval.Manual
        || run.direction() != Direction.UPGRADE
        || run.part() == RunPart.CONTRACT) {
      return start;
    }
    PlanStatus plan = planFor(dbm, run);
    PlanPhase phase = plan.getPhase() == null ? PlanPhase.Planning : plan.getPhase();
    if (phase == PlanPhase.Planning) {
      if (underWay.plan() instanceof RunState.Blocked blocked
          && plan.getJob().equals(underWay.planJob())) {
        return new Decision.Refused(blocked.reason(), blocked.message(), true);
      }
      String what = "the upgrade to " + run.targetRevision() + " with " + run.image();
      return new Decision.Planning(
          plan,
          run.plan(plan.getId(), plan.getJob()),
          "planning " + what + " (Job " + plan.getJob() + ")");
    }
    if (phase == PlanPhase.Failed) {
      return new Decision.Refused(
          Reason.PlanFailed,
          "the plan Job "
              + plan.getJob()
              + " failed: "
              + plan.getMessage()
              + ". Fix the cause, then change the spec or give annotation"
              + " schemagate.dev/retry a new value",
          true);
    }
    String approved = spec.getApprovedPlan();
    if (plan.getHash().equals(approved)) {
      return new Decision.Start(run.applying(plan.getHash()));
    }
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
    PlanStatus awaiting = copy(plan);
    awaiting.setPhase(PlanPhase.AwaitingApproval);
    awaiting.setAwaitingApproval(plan.getHash());
    awaiting.setMessage(message);
    return new Decision.AwaitingApproval(awaiting, message);
  }

  /**
   * The plan a run needs: the one in status when it was made for the same inputs, else a new one,
   * to be made.
   */
  static PlanStatus planFor(DatabaseMigration dbm, RunInputs run) {
    boolean rehearse =
        dbm.getSpec().getPlan() != null
            && Boolean.TRUE.equals(dbm.getSpec().getPlan().getRehearse());
    Map<String, String> annotations = dbm.getMetadata().getAnnotations();
    String retry = annotations == null ? "" : annotations.getOrDefault(RunPlanner.RETRY, "");
    String id =
        Names.hash(
            dbm.getMetadata().getUid(),
            "plan",
            run.image(),
            run.requestedImage(),
            run.targetRevision(),
            String.valueOf(run.fromRevision()),
            String.valueOf(dbm.getStatus() == null ? null : dbm.getStatus().getAppliedImage()),
            Boolean.toString(rehearse),
            retry);
    PlanStatus recorded = dbm.getStatus() == null ? null : dbm.getStatus().getPlan();
    if (recorded != null && id.equals(recorded.getId())) {
      return recorded;
    }
    PlanStatus plan = new PlanStatus();
    plan.setId(id);
    plan.setJob(Names.jobName(dbm.getMetadata().getName(), id));
    plan.setPhase(PlanPhase.Planning);
    plan.setImage(run.image());
    plan.setTargetRevision(run.targetRevision());
    plan.setFromRevision(run.fromRevision());
    return plan;
  }

  /** A plan Job's end: the plan, made or failed, and the plan's SQL (null when none was made). */
  public record Made(PlanStatus plan, String sql) {
    public boolean failed() {
      return plan.getPhase() == PlanPhase.Failed;
    }
  }

  /** What a plan Job that ended reported: the plan it made, or why it made none. */
  public static Made made(PlanStatus plan, Observation seen, String migration, Instant now) {
    if (seen.state() instanceof RunState.Failed failed) {
      return failed(plan, failed.reason() + ": " + failed.message());
    }
    Optional<PlanResult.Read> read = PlanResult.read(seen.result(), plan);
    if (read.isEmpty()) {
      return failed(
          plan,
          "the Job succeeded but reported no plan: the image must follow the Job contract's"
              + " SCHEMAGATE_DIRECTION=plan (the schemagate runner and the Alembic wrapper do)");
    }
    PlanStatus made = read.get().plan();
    made.setJobUid(plan.getJobUid());
    made.setPhase(PlanPhase.AwaitingApproval);
    made.setPlannedAt(Time.format(now));
    made.setPlanSeconds(seen.seconds());
    made.setConfigMap(PlanConfigMap.name(migration));
    return new Made(made, read.get().sql());
  }

  private static Made failed(PlanStatus plan, String why) {
    PlanStatus out = new PlanStatus();
    out.setId(plan.getId());
    out.setJob(plan.getJob());
    out.setJobUid(plan.getJobUid());
    out.setImage(plan.getImage());
    out.setTargetRevision(plan.getTargetRevision());
    out.setFromRevision(plan.getFromRevision());
    out.setPhase(PlanPhase.Failed);
    out.setMessage(why);
    return new Made(out, null);
  }

  private static PlanStatus copy(PlanStatus plan) {
    return JSON.convertValue(JSON.valueToTree(plan), PlanStatus.class);
  }
}
