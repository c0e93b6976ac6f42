package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.HashSet;
import java.util.Set;

/**
 * Step: the Jobs of runs cut from history go. A finished Job that belongs to no recorded or active
 * run is deleted (the Jobs of the runs in history are kept, with their pods' logs); a finished Job
 * that is kept gets the owner reference it had no need of while it ran, so that it goes with its
 * DatabaseMigration, once the Job controller has written its last condition. Of the drift check
 * Jobs, the last one and the one that last read the schema are kept. A Job that is not the
 * resource's own is never deleted nor owned, unless it carries the resource's owner reference
 * already (a Job of a run cut from history, made from a spec that has changed since): it would go
 * with the resource anyway.
 */
public final class PruneJobs implements Step {

  @Override
  public void apply(ReconcileState state) {
    DatabaseMigrationStatus status = state.status();
    Set<String> keep = new HashSet<>();
    status.getHistory().forEach(h -> keep.add(h.getJob()));
    if (status.getActiveRun() != null) {
      keep.add(status.getActiveRun().getJob());
    }
    for (Job job : state.jobs().all()) {
      if (!RunObserver.finished(job)) {
        continue;
      }
      if (RunCodec.isCheck(job)) {
        // only the last check Job is kept, and the one that last read the schema
        if (!checkJobsKept(status).contains(job.getMetadata().getName())) {
          state.changes().deleteFinishedJob(job);
        }
        continue;
      }
      if (RunCodec.isPlan(job)) {
        // a plan Job goes once another plan replaced it (it is owned from its creation)
        if (status.getPlan() == null
            || !job.getMetadata().getName().equals(status.getPlan().getJob())) {
          state.changes().deleteFinishedJob(job);
        }
        continue;
      }
      if (keep.contains(job.getMetadata().getName())) {
        // once the Job controller is done with it: a patch between its writes would meet a 409
        if (RunObserver.settled(job) && !RunCodec.ownedBy(job, state.resource())) {
          state.changes().own(job);
        }
      } else if (!status.getHistory().isEmpty()) {
        state.changes().deleteFinishedJob(job);
      }
    }
    for (Job job : state.jobs().leftovers()) {
      if (!keep.contains(job.getMetadata().getName())
          && !checkJobsKept(status).contains(job.getMetadata().getName())) {
        state.changes().deleteFinishedJob(job);
      }
    }
  }

  private static Set<String> checkJobsKept(DatabaseMigrationStatus status) {
    Set<String> kept = new HashSet<>();
    DriftStatus drift = status.getDrift();
    if (drift != null && drift.getCheck() != null) {
      kept.add(drift.getCheck().getJob());
    }
    if (drift != null && drift.getLive() != null) {
      kept.add(drift.getLive().getJob());
    }
    return kept;
  }
}
