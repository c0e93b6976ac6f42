package dev.schemagate.operator.plan;

import dev.schemagate.operator.gate.RolloutProgress;
import dev.schemagate.operator.run.RunState;
import java.util.List;

/**
 * What a reconcile found of the Jobs of a DatabaseMigration besides its runs, which may hold a run
 * back: the Jobs of runs that carry its marks but are not its own and still run, the drift checks
 * that run, how the plan Job stands, and how far the gated workloads have rolled out (the contract
 * part of a release waits for them).
 *
 * @param foreignRuns the look-alike run Jobs still running, each with what tells it apart
 * @param checks the drift check Jobs still running, by name
 * @param planJob the plan Job status records, or null
 * @param plan how it stands, or null when it was not found
 * @param rollout how far the gated workloads have rolled out
 */
public record UnderWay(
    List<String> foreignRuns,
    List<String> checks,
    String planJob,
    RunState plan,
    RolloutProgress rollout) {
  /** Nothing under way, the gated workloads rolled out. */
  public static final UnderWay NOTHING =
      new UnderWay(List.of(), List.of(), null, null, RolloutProgress.COMPLETE);

  /** The drift checks and the plan Job, with no look-alike running and nothing rolling out. */
  public UnderWay(List<String> checks, String planJob, RunState plan) {
    this(List.of(), checks, planJob, plan, RolloutProgress.COMPLETE);
  }

  /** The drift checks, the plan Job and the rollout, with no look-alike running. */
  public UnderWay(List<String> checks, String planJob, RunState plan, RolloutProgress rollout) {
    this(List.of(), checks, planJob, plan, rollout);
  }
}
