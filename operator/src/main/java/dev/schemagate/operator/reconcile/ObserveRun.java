package dev.schemagate.operator.reconcile;

import dev.schemagate.api.Run;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Step: observe the run under way. It is the status's active run or, when there is none, a Job of
 * ours that is still running and that no status records (the operator stopped, or lost its status
 * write, after creating it), adopted. Its Job and pod tell how it stands.
 */
public final class ObserveRun {
  private ObserveRun() {}

  public static void apply(ReconcileState state) {
    Run run = state.status().getActiveRun();
    if (run == null) {
      run = adoptOrphan(state).orElse(null);
    }
    if (run != null) {
      state.follow(run, observe(state, run));
    }
  }

  static RunState observe(ReconcileState state, Run run) {
    ClusterView cluster = state.cluster();
    Job job = cluster.job(state.namespace(), run.getJob());
    RunState observed =
        RunObserver.observe(
            run.getJob(),
            job,
            cluster.pods(state.namespace(), run.getId()),
            job == null ? List.of() : cluster.failedCreates(job),
            state.resource().getSpec().getTool(),
            state.now());
    if (observed instanceof RunState.AwaitingResult awaiting && awaiting.retryAfter() != null) {
      state.lookAgainAfter(awaiting.retryAfter());
    }
    return observed;
  }

  private static Optional<Run> adoptOrphan(ReconcileState state) {
    Set<String> recorded =
        state.status().getHistory().stream().map(h -> h.getId()).collect(Collectors.toSet());
    Optional<Job> orphan =
        state.cluster().jobs(state.resource()).stream()
            .filter(j -> !recorded.contains(RunCodec.runId(j)))
            .filter(RunCodec::isRun)
            .filter(j -> !RunObserver.finished(j))
            .max(Comparator.comparing(j -> String.valueOf(j.getMetadata().getCreationTimestamp())));
    orphan.ifPresent(
        job -> state.events().adopted("adopted running Job " + job.getMetadata().getName()));
    return orphan.map(
        job -> RunCodec.run(RunCodec.inputs(job), job.getMetadata().getCreationTimestamp()));
  }
}
