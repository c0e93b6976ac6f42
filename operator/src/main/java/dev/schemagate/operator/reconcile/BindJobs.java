package dev.schemagate.operator.reconcile;

import dev.schemagate.api.JobRecord;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/**
 * Step, after the cluster's writes: each Job the API server created for a record of the status (the
 * run that starts, the plan, the drift check) binds that record to its UID, so that only that Job,
 * and the pods it controls, are ever read for it: a Job someone makes under its name after it is
 * gone is not.
 */
public final class BindJobs implements Step {

  @Override
  public void apply(ReconcileState state) {
    for (Job created : state.written().created()) {
      JobRecord record = state.recordOf(created.getMetadata().getName());
      if (record != null) {
        record.setJobUid(created.getMetadata().getUid());
      }
    }
  }
}
