package dev.schemagate.operator.status;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Sets phase and conditions from what the reconcile found. Pure. */
public final class StatusComposer {
  static final String RETRY_HINT =
      " Fix the cause, then change the spec or give annotation schemagate.dev/retry a new value.";

  private StatusComposer() {}

  /** For a resource with a run under way. */
  public static void running(
      DatabaseMigrationStatus status, Run run, RunState state, long generation, Instant now) {
    String what =
        run.getDirection().word()
            + " to "
            + run.getTargetRevision()
            + " with "
            + run.getImage()
            + " (Job "
            + run.getJob()
            + ")";
    if (state instanceof RunState.Blocked blocked) {
      apply(
          status,
          Phase.Failed,
          generation,
          now,
          false,
          blocked.reason(),
          blocked.message(),
          false,
          blocked.reason(),
          blocked.message(),
          true);
    } else {
      String message =
          state instanceof RunState.Stopping stopping ? stopping.message() : "running " + what;
      apply(
          status,
          Phase.Migrating,
          generation,
          now,
          false,
          Reasons.RUNNING,
          message,
          true,
          Reasons.RUNNING,
          message,
          false);
    }
  }

  /** For a resource with no run under way. */
  public static void idle(
      DatabaseMigrationStatus status, Decision decision, long generation, Instant now) {
    if (decision instanceof Decision.UpToDate) {
      String message =
          "database at revision "
              + status.getCurrentRevision()
              + " ("
              + status.getAppliedImage()
              + ")";
      apply(
          status,
          Phase.Ready,
          generation,
          now,
          true,
          Reasons.UP_TO_DATE,
          message,
          false,
          Reasons.UP_TO_DATE,
          "",
          false);
    } else if (decision instanceof Decision.Suspended suspended) {
      boolean atTarget = !suspended.runNeeded();
      String message =
          atTarget
              ? "spec.suspend is true; database at revision " + status.getCurrentRevision()
              : "spec.suspend is true: no migration is started, the gated Deployments stay held";
      apply(
          status,
          Phase.Suspended,
          generation,
          now,
          atTarget && status.getHeldDeployments().isEmpty(),
          Reasons.SUSPENDED,
          message,
          false,
          Reasons.SUSPENDED,
          message,
          false);
    } else if (decision instanceof Decision.Refused refused) {
      apply(
          status,
          Phase.Failed,
          generation,
          now,
          false,
          refused.reason(),
          refused.message(),
          false,
          refused.reason(),
          refused.message(),
          true);
    } else if (decision instanceof Decision.Planning planning) {
      apply(
          status,
          Phase.Pending,
          generation,
          now,
          false,
          Reasons.PLANNING,
          planning.message(),
          true,
          Reasons.PLANNING,
          planning.message(),
          false);
    } else if (decision instanceof Decision.AwaitingApproval awaiting) {
      apply(
          status,
          Phase.AwaitingApproval,
          generation,
          now,
          false,
          Reasons.APPROVAL_PENDING,
          awaiting.message(),
          false,
          Reasons.APPROVAL_PENDING,
          awaiting.message(),
          false);
    } else if (decision instanceof Decision.DriftBlocked blocked) {
      apply(
          status,
          Phase.DriftBlocked,
          generation,
          now,
          false,
          Reasons.DRIFT_BLOCKED,
          blocked.message(),
          false,
          Reasons.DRIFT_BLOCKED,
          blocked.message(),
          false);
    } else if (decision instanceof Decision.AwaitingCheck awaiting) {
      apply(
          status,
          Phase.Pending,
          generation,
          now,
          false,
          Reasons.DRIFT_CHECK_RUNNING,
          awaiting.message(),
          true,
          Reasons.DRIFT_CHECK_RUNNING,
          awaiting.message(),
          false);
    } else if (decision instanceof Decision.AwaitingRetry awaiting) {
      HistoryEntry failed = awaiting.failedRun();
      String message =
          "run "
              + failed.getId()
              + " (Job "
              + failed.getJob()
              + ") failed: "
              + failed.getMessage()
              + "."
              + RETRY_HINT;
      apply(
          status,
          Phase.Failed,
          generation,
          now,
          false,
          failed.getReason(),
          message,
          false,
          failed.getReason(),
          message,
          true);
    } else {
      throw new IllegalArgumentException("not an idle decision: " + decision);
    }
  }

  /** For a resource deleted while a run of it is in flight: Reconciling, with why it stays. */
  public static void deleting(
      DatabaseMigrationStatus status, String message, long generation, Instant now) {
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.RECONCILING,
            true,
            Reasons.DELETION_WAITS_FOR_RUN,
            message,
            generation,
            now));
  }

  /** RolloutHeld, from the Deployments held. */
  public static void rollout(
      DatabaseMigrationStatus status,
      List<String> pausedByOthers,
      int heldPods,
      String podsWaitFor,
      List<String> warnings,
      long generation,
      Instant now) {
    List<String> held = status.getHeldDeployments();
    List<String> parts = new ArrayList<>();
    if (!held.isEmpty()) {
      parts.add("holding " + String.join(", ", held) + " until the database reaches the target");
    }
    if (heldPods > 0) {
      List<String> named = status.getHeldPods();
      parts.add(
          heldPods
              + (heldPods == 1 ? " pod waits" : " pods wait")
              + " at the scheduling gate ("
              + String.join(", ", named)
              + (heldPods > named.size() ? ", ..." : "")
              + "): "
              + podsWaitFor);
    }
    if (parts.isEmpty()) {
      parts.add(
          status.getPhase() == Phase.Ready
              ? "gated Deployments released"
              : "no gated Deployment exists yet");
    }
    String message = String.join("; ", parts);
    if (!pausedByOthers.isEmpty()) {
      message += "; paused by someone else, left as they are: " + String.join(", ", pausedByOthers);
    }
    for (String warning : warnings) {
      message += "; warning: " + warning;
    }
    boolean holding = !held.isEmpty() || heldPods > 0;
    status.setConditions(
        Conditions.set(
            status.getConditions(),
            Conditions.ROLLOUT_HELD,
            holding,
            holding ? Reasons.HELD : Reasons.RELEASED,
            message,
            generation,
            now));
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

  private static void apply(
      DatabaseMigrationStatus status,
      Phase phase,
      long generation,
      Instant now,
      boolean ready,
      String readyReason,
      String readyMessage,
      boolean reconciling,
      String reconcilingReason,
      String reconcilingMessage,
      boolean stalled) {
    status.setPhase(phase);
    status.setObservedGeneration(generation);
    var conditions = status.getConditions();
    conditions =
        Conditions.set(
            conditions, Conditions.READY, ready, readyReason, readyMessage, generation, now);
    conditions =
        Conditions.set(
            conditions,
            Conditions.RECONCILING,
            reconciling,
            reconcilingReason,
            reconciling ? reconcilingMessage : "",
            generation,
            now);
    conditions =
        Conditions.set(
            conditions,
            Conditions.STALLED,
            stalled,
            stalled ? readyReason : "NotStalled",
            stalled ? readyMessage : "",
            generation,
            now);
    status.setConditions(conditions);
  }
}
