package dev.schemagate.operator.reconcile;

import dev.schemagate.api.Run;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.StatusComposer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Step, when the DatabaseMigration is deleted. A migration is never stopped mid-way: while a Job of
 * it runs (or its pod still stops), the resource stays (its finalizer), and so does the hold on the
 * gated Deployments, so that no app is released onto a half-migrated schema; status and an Event
 * say so. A Job that never started (blocked) has changed nothing and is deleted at once. Once no
 * run is in flight, deletion removes the gate: the Deployments this resource holds are resumed and
 * the pods that wait at its scheduling gate go ahead, whatever the last run's outcome, and its Jobs
 * are deleted.
 */
public final class Deletion {
  private Deletion() {}

  /** Decides the writes; returns whether the resource may go now. */
  public static boolean apply(ReconcileState state) {
    List<Job> jobs = state.jobs().all();
    List<String> inFlight = new ArrayList<>();
    List<Job> ended = new ArrayList<>();
    for (Job job : jobs) {
      String name = job.getMetadata().getName();
      Collection<Pod> pods = state.jobs().podsOfRun(RunCodec.runId(job));
      boolean podRuns = pods.stream().anyMatch(p -> !RunObserver.terminal(p));
      if (!RunCodec.isRun(job)) {
        // a plan or a drift check changes nothing: it need not end before the resource goes
        if (!RunObserver.finished(job)) {
          state.changes().deleteSupersededJob(name);
        }
        continue;
      }
      if (RunObserver.finished(job) && !podRuns) {
        ended.add(job);
        continue;
      }
      if (state.jobs().observe(job).state() instanceof RunState.Blocked) {
        state.changes().deleteSupersededJob(name);
      } else {
        inFlight.add(name);
      }
    }
    Run active = state.status().getActiveRun();
    if (active != null
        && jobs.stream().noneMatch(j -> j.getMetadata().getName().equals(active.getJob()))
        && state.jobs().podsOfRun(active.getId()).stream()
            .anyMatch(p -> !RunObserver.terminal(p))) {
      // its Job was deleted, but its pod still stops: the migration may still be running
      inFlight.add(active.getJob());
    }
    if (!inFlight.isEmpty()) {
      List<String> held = state.status().getHeldDeployments();
      String message =
          "deleted while Job "
              + String.join(", ", inFlight)
              + " runs: a migration is never stopped mid-way, so the DatabaseMigration goes once"
              + " it has ended"
              + (held.isEmpty() ? "" : "; " + String.join(", ", held) + " stay paused until then");
      StatusComposer.deleting(
          state.status(), message, new Conditions(state.generation(), state.now()));
      state.events().tell(EventReason.DeletionWaitsForRun, message);
      return false;
    }
    Set<String> names = new LinkedHashSet<>(RolloutGate.gatedNames(state.resource()));
    names.addAll(state.status().getHeldDeployments());
    RolloutGate.Released released =
        RolloutGate.release(
            state.name(), names, name -> state.cluster().deployment(state.namespace(), name));
    state.changes().patch(released.patches());
    if (!released.names().isEmpty()) {
      state
          .events()
          .tell(
              EventReason.RolloutReleased,
              "resumed "
                  + String.join(", ", released.names())
                  + ": the DatabaseMigration was deleted");
    }
    int lifted = 0;
    for (Pod pod : state.cluster().appPods(state.namespace(), state.name())) {
      int gate = PodRequirement.gateIndex(pod);
      if (gate >= 0) {
        state.changes().lift(pod, gate);
        lifted++;
      }
    }
    if (lifted > 0) {
      state
          .events()
          .tell(
              EventReason.RolloutReleased,
              lifted
                  + (lifted == 1 ? " pod" : " pods")
                  + " left the scheduling gate: the DatabaseMigration was deleted");
    }
    ended.forEach(state.changes()::deleteFinishedJob);
    return true;
  }
}
