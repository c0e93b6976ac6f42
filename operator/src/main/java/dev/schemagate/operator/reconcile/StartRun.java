package dev.schemagate.operator.reconcile;

import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunPart;

/**
 * Step: start the run that was decided. Its Job is made from the resource and the run's inputs (the
 * ClusterWriter creates it after the gated Deployments are held), and the run is under way,
 * starting.
 */
public final class StartRun implements Step {
  private final JobDefaults defaults;

  /**
   * @param defaults the Job's deadline, resources and /tmp limit where spec.job sets none
   */
  public StartRun(JobDefaults defaults) {
    this.defaults = defaults;
  }

  @Override
  public void apply(ReconcileState state) {
    if (state.runUnderWay() || !(state.decision() instanceof Decision.Start start)) {
      return;
    }
    RunInputs inputs = start.run();
    state.changes().create(JobFactory.desired(state.resource(), inputs, defaults));
    state
        .events()
        .started(
            "started Job "
                + inputs.jobName()
                + ": "
                + (inputs.part() == RunPart.CONTRACT
                    ? "the contract part, after the rollout: "
                    : "")
                + inputs.direction().word()
                + " to "
                + inputs.targetRevision()
                + " with "
                + inputs.image());
    state.follow(
        RunCodec.run(inputs, Time.format(state.now())), RunObserver.starting(inputs.jobName()));
  }
}
