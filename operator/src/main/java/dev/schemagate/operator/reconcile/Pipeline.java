package dev.schemagate.operator.reconcile;

import dev.schemagate.api.GateMode;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.run.JobDefaults;
import java.util.List;
import java.util.stream.Stream;

/**
 * The reconcile of a DatabaseMigration, declared once, in order: the steps that decide what to
 * write, then, once the cluster's writes are made (Jobs, Deployments, pods), the steps that
 * conclude before the status is written. The reconciler runs it, and so do the tests.
 */
public final class Pipeline {
  private final List<Step> decide;
  private final List<Step> conclude;

  /**
   * @param policy the cluster admin's policy: what a Job may run
   * @param defaults the Job's deadline, resources and /tmp limit where spec.job sets none
   * @param gateMode how a DatabaseMigration that sets no spec.gate.mode holds its app
   */
  public Pipeline(MigrationPolicy policy, JobDefaults defaults, GateMode gateMode) {
    decide =
        List.of(
            // every open Job (the run, the plan, the drift check) observed; one that ended recorded
            new FollowJobs(policy),
            // no run under way: is one needed, in which direction, with which image; what holds it
            new PlanRun(policy, defaults),
            // spec.drift: a check Job, when one is due
            new CheckDrift(policy, defaults),
            // approval: Manual: the plan in status, and its Job when it is due
            new ReviewPlan(defaults),
            // hold what the gate holds until the database is at the target
            new GateRollout(gateMode),
            // pods whose revision is in place leave the scheduling gate
            new GatePods(gateMode, defaults.deadlineSeconds()),
            // the decided run: its Job
            new StartRun(defaults),
            // finished Jobs that no history keeps go; the kept ones get an owner (after the status)
            new PruneJobs());
    conclude =
        List.of(
            // the Jobs the API server made: each record is bound to its Job's UID
            new BindJobs(),
            // the writes the API server refused, and the Jobs it had already
            new HeedRefusals(),
            // the verdict: phase and conditions
            new ComposeStatus());
  }

  /** The steps that decide the cluster's writes, in order. */
  public void decide(ReconcileState state) {
    decide.forEach(step -> step.apply(state));
  }

  /** The steps that conclude, once the cluster's writes are made, in order. */
  public void conclude(ReconcileState state) {
    conclude.forEach(step -> step.apply(state));
  }

  /** Every step, in order, as a reconcile whose writes were all made as asked runs them. */
  public void run(ReconcileState state) {
    decide(state);
    conclude(state);
  }

  /** The steps, in the order they run. */
  public List<Step> steps() {
    return Stream.concat(decide.stream(), conclude.stream()).toList();
  }
}
