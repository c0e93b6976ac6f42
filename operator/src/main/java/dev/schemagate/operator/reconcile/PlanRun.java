package dev.schemagate.operator.reconcile;

import dev.schemagate.api.Reason;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobDefaults;

/**
 * Step: with no run under way, the decision, made once: whether a run is needed, in which direction
 * and with which image, under the cluster admin's policy (a run outside it gets no Job); then what
 * holds back a run that may start, in the order {@link RunPlanner} declares (a drift, a check under
 * way, the plan and its approval). No later step changes it.
 */
public final class PlanRun implements Step {
  private final MigrationPolicy policy;
  private final JobDefaults defaults;

  public PlanRun(MigrationPolicy policy, JobDefaults defaults) {
    this.policy = policy;
    this.defaults = defaults;
  }

  @Override
  public void apply(ReconcileState state) {
    if (!state.runUnderWay()) {
      state.decide(withKit(RunPlanner.decide(state.withStatus(), policy, state.underWay()), state));
    }
  }

  /** An Alembic run needs the Alembic kit's image, which the operator's install gives it. */
  private Decision withKit(Decision decision, ReconcileState state) {
    if (decision instanceof Decision.Start
        && state.resource().getSpec().getTool() == Tool.ALEMBIC
        && defaults.alembicKit() == null) {
      return new Decision.Refused(
          Reason.InvalidConfiguration,
          "tool: alembic runs with the Alembic kit, and this operator was given no kit image:"
              + " set the chart's alembicKit.repository and alembicKit.digest (the operator's"
              + " SCHEMAGATE_ALEMBIC_KIT_IMAGE) to schemagate/alembic-kit of the operator's"
              + " release; nothing was run",
          true);
    }
    return decision;
  }
}
