package dev.schemagate.operator.reconcile;

import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * Step: start the run the planner decided. Its Job is made from the resource and the run's inputs
 * (the ClusterWriter creates it after the gated Deployments are held), and the run is under way,
 * starting.
 */
public final class StartRun {
  private StartRun() {}

  /**
   * @param defaults the Job's deadline, resources and /tmp limit where spec.job sets none
   */
  public static void apply(ReconcileState state, JobDefaults defaults) {
    if (state.runUnderWay() || !(state.decision() instanceof Decision.Start start)) {
      return;
    }
    RunInputs inputs = start.run();
    Job job = JobFactory.desired(state.resource(), inputs, defaults);
    if (state.approvedPlan() != null) {
      ReviewPlan.addEnv(job, "SCHEMAGATE_PLAN_INPUTS", state.planInputs());
      ReviewPlan.addEnv(job, "SCHEMAGATE_APPROVED_PLAN", state.approvedPlan());
    }
    state.changes().create(job, inputs);
    state
        .events()
        .started(
            "started Job "
                + inputs.jobName()
                + ": "
                + inputs.direction().word()
                + " to "
                + inputs.targetRevision()
                + " with "
                + inputs.image());
    state.follow(
        RunCodec.run(inputs, Time.format(state.now())), RunObserver.starting(inputs.jobName()));
  }
}
