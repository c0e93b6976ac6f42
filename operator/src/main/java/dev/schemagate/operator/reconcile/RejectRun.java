package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.ResultParser;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.redact.Redactor;
import java.time.Duration;
import java.time.Instant;

/**
 * Step, after the writes: the API server refused the run's Job (422 for a value it rejects, 403
 * from a ResourceQuota, an admission policy or RBAC). No run is under way then: the resource is
 * Failed with reason JobRejected and the API server's message, its app stays held, and the Job is
 * tried again with a backoff that doubles from 1 s to 60 s and never stops, so that it starts,
 * once, as soon as the cause is gone (a spec change tries at once).
 */
public final class RejectRun {
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration LONGEST_RETRY = Duration.ofSeconds(60);

  private RejectRun() {}

  /**
   * @param code the API server's HTTP status
   * @param message the API server's message
   */
  public static void apply(ReconcileState state, String job, int code, String message) {
    state.unfollow();
    state.events().notStarted();
    String said =
        ResultParser.shorten(
            "the API server refused Job "
                + job
                + " ("
                + code
                + "): "
                + Redactor.redact(message)
                + "; fix the cause (spec.job, a ResourceQuota or an admission policy of namespace "
                + state.namespace()
                + "): the Job is tried again until it is accepted");
    state.decide(new Decision.Refused(Reasons.JOB_REJECTED, said, true));
    ComposeStatus.apply(state);
    state.lookAgainAfter(retryAfter(state.before(), state.now()));
  }

  /** Twice as long as the Job has been refused so far, from 1 s to 60 s. */
  static Duration retryAfter(DatabaseMigrationStatus before, Instant now) {
    Duration refusedFor =
        Conditions.find(before.getConditions(), Conditions.STALLED)
            .filter(c -> "True".equals(c.getStatus()))
            .filter(c -> Reasons.JOB_REJECTED.equals(c.getReason()))
            .map(c -> Duration.between(Time.parse(c.getLastTransitionTime()), now))
            .orElse(Duration.ZERO);
    if (refusedFor.compareTo(FIRST_RETRY) < 0) {
      return FIRST_RETRY;
    }
    return refusedFor.compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : refusedFor;
  }
}
