package dev.schemagate.operator.reconcile;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.DriftChecks;
import dev.schemagate.operator.plan.DriftPolicy;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Step (spec.drift): a drift check, when one is due. Every spec.drift.interval, when the database
 * is at its target and nothing else of this resource runs (no run, no plan, no run decided), a
 * check Job (the image that reached the current revision, the Secret and pod security of a run; the
 * Job contract's direction check) reads the live schema's fingerprint; {@link DriftPolicy} says
 * what it found against the recorded one, and what a drift does to a run. A check Job, like a run,
 * is made only within the cluster admin's policy.
 */
public final class CheckDrift implements Step {
  private final MigrationPolicy policy;
  private final JobDefaults defaults;

  public CheckDrift(MigrationPolicy policy, JobDefaults defaults) {
    this.policy = policy;
    this.defaults = defaults;
  }

  @Override
  public void apply(ReconcileState state) {
    DriftStatus drift = state.status().getDrift();
    Duration interval = DriftPolicy.interval(state.resource().getSpec().getDrift());
    if (interval == null) {
      if (drift != null && (drift.getCheck() == null || drift.getCheck().getOutcome() != null)) {
        // no checks asked for (any more): what they found goes; the fingerprint stays
        drift.setCheck(null);
        drift.setLive(null);
      }
      return;
    }
    if (drift == null
        || drift.getFingerprint() == null // nothing to compare with
        || !state.underWay().checks().isEmpty()
        || !quiet(state)) {
      return;
    }
    Instant due = DriftPolicy.due(drift, interval, state.now());
    if (state.now().isBefore(due)) {
      state.lookAgainAfter(Duration.between(state.now(), due));
      return;
    }
    if (!start(state, due)) {
      state.lookAgainAfter(interval); // no Job was made: no Job's events will bring it back
    }
  }

  /**
   * Whether a check may run: no run under way or decided, nothing being planned, the database at
   * its target (or a run held back by the drift itself, which a check may find gone), not
   * suspended.
   */
  private static boolean quiet(ReconcileState state) {
    Decision decision = state.decision();
    if (state.runUnderWay() || decision == null || decision instanceof Decision.Suspended) {
      return false;
    }
    if (!decision.databaseAtTarget() && !(decision instanceof Decision.DriftBlocked)) {
      return false;
    }
    return state.jobs().all().stream()
        .noneMatch(j -> RunCodec.isPlan(j) && !RunObserver.finished(j));
  }

  /** Records the check due now and asks for its Job; returns whether a Job is under way. */
  private boolean start(ReconcileState state, Instant due) {
    DatabaseMigration dbm = state.withStatus();
    DriftCheck check = DriftChecks.check(dbm, due);
    state.status().getDrift().setCheck(check);
    Job existing = state.jobs().forInputs(DriftChecks.inputs(dbm, check));
    if (existing != null) {
      check.setJobUid(existing.getMetadata().getUid());
      check.setStartedAt(
          Objects.requireNonNullElse(
              existing.getMetadata().getCreationTimestamp(), Time.format(state.now())));
      return true;
    }
    check.setStartedAt(Time.format(state.now()));
    List<String> violations = policy.violations(dbm.getSpec(), DriftChecks.image(dbm));
    if (!violations.isEmpty()) {
      state.checkEnded(
          check,
          CheckOutcome.Failed,
          Reason.PolicyViolation
              + ": no check Job is made: "
              + String.join("; ", violations)
              + " (the cluster admin's policy, chart values policy.*)");
      return false;
    }
    state.changes().create(JobFactory.desired(dbm, DriftChecks.inputs(dbm, check), defaults));
    return true;
  }
}
