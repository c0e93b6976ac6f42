package dev.schemagate.operator.status;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Run;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/**
 * The status as a verdict: each state of a run under way and each decision is one {@link Verdict};
 * phase, Ready, Reconciling and Stalled are set from it here, and only here. Then RolloutHeld, from
 * what the gate holds. Pure.
 */
public final class StatusComposer {
  static final String RETRY_HINT =
      " Fix the cause, then change the spec or give annotation schemagate.dev/retry a new value.";

  /**
   * After BaselineRequired, the one spec change that helps (whatever the image's own message says).
   */
  static final String BASELINE_HINT =
      " Set spec.baseline.revision to the revision the database is at (its migrations after that"
          + " one run); that change starts a new run.";

  private StatusComposer() {}

  /** The verdict on a resource with a run under way. */
  public static Verdict verdict(Run run, RunState state) {
    if (state instanceof RunState.Blocked blocked) {
      return new Verdict(Phase.Failed, false, blocked.reason(), blocked.message());
    }
    if (run.getPart() == MigrationKind.CONTRACT) {
      // the app runs on the expanded schema meanwhile: it is Ready, and the resource on its way
      return new Verdict(
          Phase.Contracting,
          true,
          Reason.MigrationRunning,
          state instanceof RunState.Stopping stopping
              ? stopping.message()
              : "the rollout is complete; running the contract part to "
                  + run.getTargetRevision()
                  + " with "
                  + run.getImage()
                  + " (Job "
                  + run.getJob()
                  + ")");
    }
    String message =
        state instanceof RunState.Stopping stopping
            ? stopping.message()
            : "running "
                + run.getDirection().word()
                + " to "
                + run.getTargetRevision()
                + " with "
                + run.getImage()
                + " (Job "
                + run.getJob()
                + ")";
    return new Verdict(Phase.Migrating, false, Reason.MigrationRunning, message);
  }

  /** The verdict on a resource with no run under way, from what was decided. */
  public static Verdict verdict(Decision decision, DatabaseMigrationStatus status) {
    if (decision instanceof Decision.UpToDate upToDate) {
      return new Verdict(
          Phase.Ready,
          true,
          Reason.UpToDate,
          "database at revision "
              + status.getCurrentRevision()
              + " ("
              + status.getAppliedImage()
              + ")"
              + (upToDate.note().isEmpty() ? "" : "; " + upToDate.note()));
    }
    if (decision instanceof Decision.Suspended suspended) {
      boolean atTarget = !suspended.runNeeded();
      return new Verdict(
          Phase.Suspended,
          atTarget && status.getHeldDeployments().isEmpty(),
          Reason.Suspended,
          atTarget
              ? "spec.suspend is true; database at revision " + status.getCurrentRevision()
              : "spec.suspend is true: no migration is started, the gated Deployments stay held");
    }
    if (decision instanceof Decision.Refused refused) {
      return new Verdict(Phase.Failed, false, refused.reason(), refused.message());
    }
    if (decision instanceof Decision.Planning planning) {
      return new Verdict(Phase.Pending, false, Reason.Planning, planning.message());
    }
    if (decision instanceof Decision.AwaitingApproval awaiting) {
      return new Verdict(Phase.AwaitingApproval, false, Reason.ApprovalPending, awaiting.message());
    }
    if (decision instanceof Decision.DriftBlocked blocked) {
      return new Verdict(Phase.DriftBlocked, false, Reason.DriftBlocked, blocked.message());
    }
    if (decision instanceof Decision.AwaitingCheck awaiting) {
      return new Verdict(Phase.Pending, false, Reason.DriftCheckRunning, awaiting.message());
    }
    if (decision instanceof Decision.ContractHeld held) {
      // Ready: the app of the release runs on the expanded schema; Stalled when its rollout is
      // stuck, since the contract part gets no further without a person
      Reason reason =
          switch (held.phase()) {
            case RolloutStuck -> Reason.RolloutStuck;
            case AwaitingApproval -> Reason.ContractApprovalPending;
            default -> Reason.AwaitingRollout;
          };
      return new Verdict(Phase.RollingOut, true, reason, held.message());
    }
    if (decision instanceof Decision.AwaitingRetry awaiting) {
      HistoryEntry failed = awaiting.failedRun();
      return new Verdict(
          Phase.Failed,
          false,
          Reason.of(failed.getReason()),
          "run "
              + failed.getId()
              + " (Job "
              + failed.getJob()
              + ") failed: "
              + failed.getMessage()
              + "."
              + (Reason.of(failed.getReason()) == Reason.BaselineRequired
                  ? BASELINE_HINT
                  : RETRY_HINT));
    }
    throw new IllegalArgumentException("no verdict on " + decision);
  }

  /** Phase, Ready, Reconciling and Stalled, from the verdict. */
  public static void apply(DatabaseMigrationStatus status, Verdict verdict, Conditions at) {
    status.setPhase(verdict.phase());
    status.setObservedGeneration(at.generation());
    List<Condition> conditions = status.getConditions();
    conditions =
        at.set(conditions, Conditions.READY, verdict.ready(), verdict.reason(), verdict.message());
    conditions =
        at.set(
            conditions,
            Conditions.RECONCILING,
            verdict.reconciling(),
            verdict.reason(),
            verdict.reconciling() ? verdict.message() : "");
    conditions =
        at.set(
            conditions,
            Conditions.STALLED,
            verdict.stalled(),
            verdict.stalled() ? verdict.reason() : Reason.NotStalled,
            verdict.stalled() ? verdict.message() : "");
    status.setConditions(conditions);
  }

  /** For a resource deleted while a run of it is in flight: Reconciling, with why it stays. */
  public static void deleting(DatabaseMigrationStatus status, String message, Conditions at) {
    status.setConditions(
        at.set(
            status.getConditions(),
            Conditions.RECONCILING,
            true,
            Reason.DeletionWaitsForRun,
            message));
  }

  /**
   * What holds the gated app, besides the Deployments status.heldDeployments names.
   *
   * @param pausedByOthers gated Deployments someone else paused, left as they are
   * @param heldPods how many pods wait at the scheduling gate
   * @param podsWaitFor what the first of them waits for
   * @param contracted whether that is a contract migration applied after the revision it needs (a
   *     rollback onto a contracted schema)
   * @param warnings of gated Deployments whose progress deadline ends before the migration's may
   */
  public record Rollout(
      List<String> pausedByOthers,
      int heldPods,
      String podsWaitFor,
      boolean contracted,
      List<String> warnings) {}

  /** RolloutHeld, from the Deployments and pods held. */
  public static void rollout(DatabaseMigrationStatus status, Rollout rollout, Conditions at) {
    List<String> held = status.getHeldDeployments();
    List<String> parts = new ArrayList<>();
    if (!held.isEmpty()) {
      parts.add("holding " + String.join(", ", held) + " until the database reaches the target");
    }
    int heldPods = rollout.heldPods();
    if (heldPods > 0) {
      List<String> named = status.getHeldPods();
      parts.add(
          heldPods
              + (heldPods == 1 ? " pod waits" : " pods wait")
              + " at the scheduling gate ("
              + String.join(", ", named)
              + (heldPods > named.size() ? ", ..." : "")
              + "): "
              + rollout.podsWaitFor());
    }
    if (parts.isEmpty()) {
      parts.add(
          status.getPhase() == Phase.Ready
              ? "gated Deployments released"
              : "no gated Deployment exists yet");
    }
    String message = String.join("; ", parts);
    if (!rollout.pausedByOthers().isEmpty()) {
      message +=
          "; paused by someone else, left as they are: "
              + String.join(", ", rollout.pausedByOthers());
    }
    for (String warning : rollout.warnings()) {
      message += "; warning: " + warning;
    }
    boolean holding = !held.isEmpty() || heldPods > 0;
    status.setConditions(
        at.set(
            status.getConditions(),
            Conditions.ROLLOUT_HELD,
            holding,
            holding
                ? (rollout.contracted() ? Reason.SchemaContracted : Reason.DatabaseNotAtTarget)
                : Reason.DatabaseAtTarget,
            message));
  }

  /**
   * Passes every message of the status (conditions, history, the migrations applied) through the
   * redaction once more, whatever put it there: an entry written by an older operator too.
   */
  public static void redact(DatabaseMigrationStatus status) {
    for (Condition c : status.getConditions()) {
      c.setMessage(Redactor.redact(c.getMessage()));
    }
    for (HistoryEntry entry : status.getHistory()) {
      entry.setMessage(Redactor.redact(entry.getMessage()));
      entry.getApplied().forEach(a -> a.setDescription(Redactor.redact(a.getDescription())));
    }
  }
}
