package dev.schemagate.operator.run;

import dev.schemagate.operator.base.Time;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A Job of the operator's as one reconcile found it: how it stands, what its newest pod reported
 * (the result as the pod left it, for the Job's kind to read), and, once it has ended, how long it
 * took.
 *
 * @param job the Job as cached, or null when there is none
 * @param state how it stands
 * @param pods what its newest pod reports
 */
public record Observation(Job job, RunState state, PodResult pods) {

  /** Whether the Job has ended, succeeded or failed, with its result in. */
  public boolean ended() {
    return state instanceof RunState.Succeeded || state instanceof RunState.Failed;
  }

  /** The result the Job's pod reported (its termination message), or null. */
  public String result() {
    return pods.message();
  }

  /** Seconds from the Job's creation to its completion, when both are known. */
  public Long seconds() {
    if (job == null) {
      return null;
    }
    String created = job.getMetadata().getCreationTimestamp();
    String completed = job.getStatus() == null ? null : job.getStatus().getCompletionTime();
    if (completed == null && job.getStatus() != null && job.getStatus().getConditions() != null) {
      // the Job controller tells SuccessCriteriaMet before it sets the completion time
      completed =
          job.getStatus().getConditions().stream()
              .filter(c -> "True".equals(c.getStatus()))
              .filter(c -> List.of("SuccessCriteriaMet", "Complete").contains(c.getType()))
              .map(JobCondition::getLastTransitionTime)
              .filter(Objects::nonNull)
              .findFirst()
              .orElse(null);
    }
    if (created == null || completed == null) {
      return null;
    }
    try {
      return Math.max(0, Duration.between(Time.parse(created), Time.parse(completed)).toSeconds());
    } catch (RuntimeException e) {
      return null;
    }
  }
}
