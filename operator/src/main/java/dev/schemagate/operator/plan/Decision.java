package dev.schemagate.operator.plan;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.run.RunInputs;
import java.util.List;

/** What was decided for a DatabaseMigration that has no run under way. */
public sealed interface Decision {

  /**
   * Whether the database is at the spec's target, or the expand part of the spec's release is in
   * place (its contract part held), so that the gated Deployments may run.
   */
  default boolean databaseAtTarget() {
    return this instanceof UpToDate
        || this instanceof ContractHeld
        || (this instanceof Suspended suspended && !suspended.runNeeded())
        || (this instanceof Refused refused && !refused.runNeeded());
  }

  /**
   * The database is at the target of the spec.
   *
   * @param note what the spec asks that is not used now ({@code spec.baseline} once the database
   *     has its history), or ""
   */
  record UpToDate(String note) implements Decision {
    public UpToDate() {
      this("");
    }
  }

  /** A run is needed and may start. */
  record Start(RunInputs run) implements Decision {}

  /** A run is needed but spec.suspend is true. */
  record Suspended(boolean runNeeded) implements Decision {}

  /** The spec cannot be acted on; a person must change it (or what it runs into). */
  record Refused(Reason reason, String message, boolean runNeeded) implements Decision {}

  /**
   * spec.approval: Manual: the plan of the run is being made.
   *
   * @param plan the plan, as status records it
   * @param job the inputs of the plan's Job
   */
  record Planning(PlanStatus plan, RunInputs job, String message) implements Decision {}

  /**
   * spec.approval: Manual: the plan is made and waits for spec.approvedPlan to equal its hash.
   *
   * @param plan the plan, as status records it while it waits
   */
  record AwaitingApproval(PlanStatus plan, String message) implements Decision {}

  /**
   * spec.drift.onDrift: Block: a run is needed, but the live schema drifted from the recorded one
   * and no one acknowledged it.
   */
  record DriftBlocked(String message) implements Decision {}

  /** A run is needed and waits for a drift check Job of this resource to end. */
  record AwaitingCheck(String message) implements Decision {}

  /**
   * The expand part of the release is in place and the app released; its contract part waits: for
   * the gated workloads to roll out, for a stuck rollout to be fixed, or (spec.contract: Manual)
   * for its approval.
   *
   * @param phase AwaitingRollout, RolloutStuck or AwaitingApproval
   * @param waitingFor the workloads it waits for, each with why
   * @param contract the run of the contract part, as it will start
   */
  record ContractHeld(
      ContractPhase phase, List<String> waitingFor, RunInputs contract, String message)
      implements Decision {}

  /** The run these inputs call for already failed; it waits for a spec change or a retry. */
  record AwaitingRetry(HistoryEntry failedRun) implements Decision {}
}
