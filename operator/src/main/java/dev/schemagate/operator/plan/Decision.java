package dev.schemagate.operator.plan;

import dev.schemagate.api.HistoryEntry;
import dev.schemagate.operator.run.RunInputs;

/** What the planner decided for a DatabaseMigration that has no run under way. */
public sealed interface Decision {

  /** Whether the database is at the spec's target, so that the gated Deployments may run. */
  default boolean databaseAtTarget() {
    return this instanceof UpToDate
        || (this instanceof Suspended suspended && !suspended.runNeeded())
        || (this instanceof Refused refused && !refused.runNeeded());
  }

  /** The database is at the target of the spec. */
  record UpToDate() implements Decision {}

  /** A run is needed and may start. */
  record Start(RunInputs run) implements Decision {}

  /** A run is needed but spec.suspend is true. */
  record Suspended(boolean runNeeded) implements Decision {}

  /** The spec cannot be acted on; a person must change it. */
  record Refused(String reason, String message, boolean runNeeded) implements Decision {}

  /** spec.approval: Manual: the plan of the run is being made. */
  record Planning(String message) implements Decision {}

  /** spec.approval: Manual: the plan is made and waits for spec.approvedPlan to equal its hash. */
  record AwaitingApproval(String message) implements Decision {}

  /**
   * spec.drift.onDrift: Block: a run is needed, but the live schema drifted from the recorded one
   * and no one acknowledged it.
   */
  record DriftBlocked(String message) implements Decision {}

  /** A run is needed and waits for a drift check Job of this resource to end. */
  record AwaitingCheck(String message) implements Decision {}

  /** The run these inputs call for already failed; it waits for a spec change or a retry. */
  record AwaitingRetry(HistoryEntry failedRun) implements Decision {}
}
