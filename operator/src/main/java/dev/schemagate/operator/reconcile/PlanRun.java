package dev.schemagate.operator.reconcile;

import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * Step: with no run under way, decide whether one is needed, in which direction and with which
 * image. A run whose Job exists already (its creation was never recorded) is that Job, adopted:
 * under way, it is the run; finished, it is recorded and the decision made again.
 */
public final class PlanRun {
  private PlanRun() {}

  /** Plans under the cluster admin's policy: a run outside it gets no Job. */
  public static void apply(ReconcileState state, MigrationPolicy policy) {
    if (state.runUnderWay()) {
      return;
    }
    Decision decision = RunPlanner.decide(state.withStatus(), policy);
    if (decision instanceof Decision.Start start && adoptExistingJob(state, start.run())) {
      if (!RecordRun.recorded(state)) {
        return;
      }
      decision = RunPlanner.decide(state.withStatus(), policy);
    }
    state.decide(decision);
  }

  private static boolean adoptExistingJob(ReconcileState state, RunInputs inputs) {
    Job existing = state.cluster().job(state.namespace(), inputs.jobName());
    if (existing == null) {
      return false;
    }
    String created = existing.getMetadata().getCreationTimestamp();
    Run run = RunCodec.run(inputs, created != null ? created : Time.format(state.now()));
    state.events().adopted("adopted existing Job " + inputs.jobName());
    state.follow(run, ObserveRun.observe(state, run));
    return true;
  }
}
