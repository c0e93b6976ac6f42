package dev.schemagate.operator.reconcile;

import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;

/**
 * Step: with no run under way, the decision, made once: whether a run is needed, in which direction
 * and with which image, under the cluster admin's policy (a run outside it gets no Job); then what
 * holds back a run that may start, in the order {@link RunPlanner} declares (a drift, a check under
 * way, the plan and its approval). No later step changes it.
 */
public final class PlanRun implements Step {
  private final MigrationPolicy policy;

  public PlanRun(MigrationPolicy policy) {
    this.policy = policy;
  }

  @Override
  public void apply(ReconcileState state) {
    if (!state.runUnderWay()) {
      state.decide(RunPlanner.decide(state.withStatus(), policy, state.underWay()));
    }
  }
}
