package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.PlanPhase;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.PlanPolicy;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.status.EventReason;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * Step (spec.approval: Manual): the plan the decision stands on goes to status.plan, and a plan
 * that is due gets its Job ({@link PlanPolicy} says when, and what a plan Job's result means). A
 * plan that waits for approval shows its hash (the AWAITING column); an approved one, once its run
 * starts with it, is Approved.
 */
public final class ReviewPlan implements Step {
  private final JobDefaults defaults;

  /**
   * @param defaults the Job's deadline, resources and /tmp limit where spec.job sets none
   */
  public ReviewPlan(JobDefaults defaults) {
    this.defaults = defaults;
  }

  @Override
  public void apply(ReconcileState state) {
    if (state.runUnderWay()) {
      return;
    }
    DatabaseMigrationStatus status = state.status();
    Decision decision = state.decision();
    if (decision instanceof Decision.Planning planning) {
      status.setPlan(planning.plan());
      Job existing = state.jobs().forInputs(planning.job());
      if (existing == null) {
        start(state, planning.job());
      } else if (status.getPlan().getJobUid() == null) {
        status.getPlan().setJobUid(existing.getMetadata().getUid());
      }
    } else if (decision instanceof Decision.AwaitingApproval awaiting) {
      status.setPlan(awaiting.plan());
    } else if (decision instanceof Decision.Start start
        && start.run().approvedPlan() != null
        && status.getPlan() != null) {
      PlanStatus plan = status.getPlan();
      plan.setPhase(PlanPhase.Approved);
      plan.setAwaitingApproval(null);
      plan.setMessage(null);
    } else if (status.getPlan() != null) {
      status.getPlan().setAwaitingApproval(null);
    }
  }

  private void start(ReconcileState state, RunInputs plan) {
    state.changes().create(JobFactory.desired(state.resource(), plan, defaults));
    state
        .events()
        .tell(
            EventReason.PlanStarted,
            "started plan Job "
                + plan.jobName()
                + ": the upgrade to "
                + plan.targetRevision()
                + " with "
                + plan.image());
  }
}
