package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.DriftPolicy;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.run.CheckResult;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.ResultParser;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.run.SchemaDiff;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Step (spec.drift): the drift check. Every spec.drift.interval, when the database is at its target
 * and nothing else of this resource runs (no run, no plan, no run decided), a check Job (the same
 * image that reached the current revision, Secret and pod security as a run; the Job contract's
 * direction check) reads the live schema's fingerprint; it is compared, table by table, with the
 * one the last successful run recorded. A run that is due waits for a check under way to end, so a
 * check and a migration of a resource never run together; with onDrift: Block, it waits until the
 * drift is acknowledged (spec.drift.acknowledged equal to the live fingerprint) or gone. A check
 * that finds a migration holding the run lock (exit 11) is tried again soon.
 */
public final class CheckDrift {
  public static final String NO_DRIFT = "NoDrift";
  public static final String DRIFTED = "Drifted";
  public static final String SKIPPED = "Skipped";
  public static final String FAILED = "Failed";

  /** How soon a check that found a migration under way is tried again, at most. */
  static final Duration SKIPPED_RETRY = Duration.ofSeconds(30);

  private CheckDrift() {}

  /**
   * Checks under the cluster admin's policy: a check Job is a Job of the resource's image, Secret
   * and service account like a run, and is made only within the policy.
   */
  public static void apply(ReconcileState state, MigrationPolicy policy, JobDefaults defaults) {
    DatabaseMigrationSpec spec = state.resource().getSpec();
    DriftStatus drift = state.status().getDrift();
    Duration interval = DriftPolicy.interval(spec.getDrift());
    if (drift != null && drift.getCheck() != null && drift.getCheck().getOutcome() == null) {
      observe(state, drift, drift.getCheck());
    }
    if (interval == null
        && drift != null
        && (drift.getCheck() == null || drift.getCheck().getOutcome() != null)) {
      // no checks asked for (any more): what they found goes; the fingerprint stays
      drift.setCheck(null);
      drift.setLive(null);
    }
    List<String> running = runningChecks(state);
    if (!state.runUnderWay() && state.decision() instanceof Decision.Start) {
      Optional<String> blocked = DriftPolicy.blocking(spec.getDrift(), drift);
      if (blocked.isPresent()) {
        state.decide(new Decision.DriftBlocked(blocked.get()));
      } else if (!running.isEmpty()) {
        state.decide(
            new Decision.AwaitingCheck(
                "the drift check Job "
                    + String.join(", ", running)
                    + " is running: the run starts once it has ended (a check and a migration of"
                    + " a resource never run together)"));
      }
    }
    if (interval != null && running.isEmpty() && quiet(state)) {
      schedule(state, interval, policy, defaults);
    }
  }

  /**
   * The Job that checks the drift was refused by the API server (quota, admission policy): the
   * check failed; the next is tried after the interval.
   */
  public static void refused(ReconcileState state, String job, int code, String message) {
    DriftStatus drift = state.status().getDrift();
    if (drift == null || drift.getCheck() == null || !job.equals(drift.getCheck().getJob())) {
      return;
    }
    finish(
        state,
        drift.getCheck(),
        FAILED,
        "the API server refused the check Job (" + code + "): " + Redactor.redact(message));
  }

  /** The check Jobs of this resource still running (not the one just found blocked). */
  private static List<String> runningChecks(ReconcileState state) {
    DriftStatus drift = state.status().getDrift();
    String ended =
        drift != null && drift.getCheck() != null && drift.getCheck().getOutcome() != null
            ? drift.getCheck().getJob()
            : null;
    return state.cluster().jobs(state.resource()).stream()
        .filter(RunCodec::isCheck)
        .filter(j -> !RunObserver.finished(j))
        .map(j -> j.getMetadata().getName())
        .filter(name -> !name.equals(ended))
        .toList();
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
    return state.cluster().jobs(state.resource()).stream()
        .noneMatch(j -> RunCodec.isPlan(j) && !RunObserver.finished(j));
  }

  private static void schedule(
      ReconcileState state, Duration interval, MigrationPolicy policy, JobDefaults defaults) {
    DriftStatus drift = state.status().getDrift();
    if (drift == null || drift.getFingerprint() == null) {
      return; // nothing to compare with
    }
    Instant due = due(drift, interval, state.now());
    if (state.now().isBefore(due)) {
      state.lookAgainAfter(Duration.between(state.now(), due));
      return;
    }
    start(state, drift, due, policy, defaults);
    if (drift.getCheck().getOutcome() != null) {
      state.lookAgainAfter(interval); // no Job was made: no Job's events will bring it back
    }
  }

  /**
   * When the next check is due: an interval after the last check began, or after the fingerprint
   * was recorded if that came later; soon after a check that found a migration under way.
   */
  static Instant due(DriftStatus drift, Duration interval, Instant now) {
    Instant base = Time.parse(drift.getRecordedAt());
    Duration wait = interval;
    DriftCheck last = drift.getCheck();
    if (last != null && last.getStartedAt() != null) {
      Instant started = Time.parse(last.getStartedAt());
      if (base == null || !started.isBefore(base)) {
        base = started;
        if (SKIPPED.equals(last.getOutcome()) && interval.compareTo(SKIPPED_RETRY) > 0) {
          wait = SKIPPED_RETRY;
        }
      }
    }
    return base == null ? now : base.plus(wait);
  }

  private static void start(
      ReconcileState state,
      DriftStatus drift,
      Instant due,
      MigrationPolicy policy,
      JobDefaults defaults) {
    DatabaseMigration dbm = state.resource();
    DatabaseMigrationStatus status = state.status();
    // the check due at this instant has this name in every reconcile: one that a lost status
    // write forgot is found, not made twice
    String id = Names.hash(dbm.getMetadata().getUid(), "check", Time.format(due));
    String jobName = Names.jobName(dbm.getMetadata().getName(), id);
    DriftCheck last = drift.getCheck();
    DriftCheck check = new DriftCheck();
    check.setFailures(last == null ? null : last.getFailures());
    check.setId(id);
    check.setJob(jobName);
    check.setComparedWith(drift.getFingerprint());
    Job existing = state.cluster().job(state.namespace(), jobName);
    if (existing != null) {
      check.setStartedAt(
          Objects.requireNonNullElse(
              existing.getMetadata().getCreationTimestamp(), Time.format(state.now())));
      drift.setCheck(check);
      return;
    }
    String image =
        status.getCurrentImage() != null ? status.getCurrentImage() : dbm.getSpec().getImage();
    check.setStartedAt(Time.format(state.now()));
    drift.setCheck(check);
    List<String> violations = policy.violations(dbm.getSpec(), image);
    if (!violations.isEmpty()) {
      finish(
          state,
          check,
          FAILED,
          Reasons.POLICY_VIOLATION
              + ": no check Job is made: "
              + String.join("; ", violations)
              + " (the cluster admin's policy, chart values policy.*)");
      return;
    }
    String revision = Objects.requireNonNullElse(status.getCurrentRevision(), "");
    RunInputs inputs =
        new RunInputs(
            id,
            jobName,
            Direction.CHECK,
            image,
            dbm.getSpec().getImage(),
            revision,
            status.getCurrentRevision(),
            state.generation());
    Job job = JobFactory.desired(dbm, inputs, defaults);
    job.getMetadata().setOwnerReferences(List.of(RunCodec.ownerReference(dbm)));
    state.changes().createCheckJob(job);
  }

  /** The check under way: followed while it runs, read once it has ended. */
  private static void observe(ReconcileState state, DriftStatus drift, DriftCheck check) {
    String ns = state.namespace();
    Job job = state.cluster().job(ns, check.getJob());
    if (job == null) {
      finish(state, check, FAILED, "the check Job was deleted before it reported");
      return;
    }
    Collection<Pod> pods = state.cluster().pods(ns, check.getId());
    RunState observed =
        RunObserver.observe(
            check.getJob(),
            job,
            pods,
            state.cluster().failedCreates(job),
            state.resource().getSpec().getTool(),
            state.now());
    check.setSeconds(ReviewPlan.seconds(job));
    if (observed instanceof RunState.Blocked blocked) {
      // its container never started: it goes, so that it holds up no run
      state.changes().deleteSupersededJob(check.getJob());
      finish(state, check, FAILED, blocked.reason() + ": " + blocked.message());
      return;
    }
    Optional<CheckResult> result = CheckResult.read(RunObserver.terminationMessage(pods));
    boolean ended = observed instanceof RunState.Failed || observed instanceof RunState.Succeeded;
    boolean skipped =
        result.map(r -> r.skipped() != null).orElse(false)
            || (observed instanceof RunState.Failed f && Reasons.RUNNING.equals(f.reason()));
    if (ended && skipped) {
      finish(state, check, SKIPPED, "a migration held the run lock: the check read nothing");
      return;
    }
    if (observed instanceof RunState.Failed failed) {
      finish(state, check, FAILED, failed.reason() + ": " + failed.message());
      return;
    }
    if (!(observed instanceof RunState.Succeeded)) {
      if (observed instanceof RunState.AwaitingResult awaiting && awaiting.retryAfter() != null) {
        state.lookAgainAfter(awaiting.retryAfter());
      }
      return;
    }
    if (result.isEmpty() || result.get().schema() == null) {
      finish(
          state,
          check,
          FAILED,
          "the check Job succeeded but reported no schema: the image must follow the Job"
              + " contract's SCHEMAGATE_DIRECTION=check (the schemagate runner and the Alembic"
              + " wrapper do)");
      return;
    }
    if (!Objects.equals(check.getComparedWith(), drift.getFingerprint())) {
      finish(state, check, SKIPPED, "a run recorded another fingerprint while the check ran");
      return;
    }
    Optional<LiveSchema> before = DriftPolicy.current(drift);
    SchemaDiff diff =
        SchemaDiff.between(
            drift.getFingerprint(),
            drift.getTables(),
            Boolean.TRUE.equals(drift.getTablesOmitted()),
            result.get().schema());
    LiveSchema live = new LiveSchema();
    live.setFingerprint(result.get().schema().fingerprint());
    live.setComparedWith(drift.getFingerprint());
    live.setDrifted(diff.drifted());
    live.setAdded(listOrNull(diff.added()));
    live.setRemoved(listOrNull(diff.removed()));
    live.setChanged(listOrNull(diff.changed()));
    live.setSummary(ResultParser.shorten(diff.summary()));
    live.setCheckedAt(Time.format(state.now()));
    live.setJob(check.getJob());
    drift.setLive(live);
    finish(state, check, diff.drifted() ? DRIFTED : NO_DRIFT, null);
    String name = state.namespace() + "/" + state.name();
    if (diff.drifted()
        && (before.isEmpty()
            || !Boolean.TRUE.equals(before.get().getDrifted())
            || !Objects.equals(before.get().getFingerprint(), live.getFingerprint()))) {
      state
          .events()
          .tell(
              EventReason.DriftDetected,
              "the live schema of "
                  + name
                  + " differs from the one Job "
                  + drift.getRecordedBy()
                  + " left: "
                  + live.getSummary()
                  + " (fingerprint "
                  + live.getFingerprint()
                  + ", recorded "
                  + drift.getFingerprint()
                  + "; found by check Job "
                  + check.getJob()
                  + ")");
    } else if (!diff.drifted()
        && before.map(b -> Boolean.TRUE.equals(b.getDrifted())).orElse(false)) {
      state
          .events()
          .tell(
              EventReason.DriftResolved,
              "the live schema of "
                  + name
                  + " matches fingerprint "
                  + drift.getFingerprint()
                  + " again (check Job "
                  + check.getJob()
                  + ")");
    }
  }

  private static void finish(ReconcileState state, DriftCheck check, String outcome, String why) {
    check.setOutcome(outcome);
    check.setFinishedAt(Time.format(state.now()));
    check.setMessage(why == null ? null : ResultParser.shorten(Redactor.redact(why)));
    state.measurements().driftChecked(outcome);
    if (FAILED.equals(outcome)) {
      int failures = Objects.requireNonNullElse(check.getFailures(), 0) + 1;
      check.setFailures(failures);
      if (failures == 1) {
        // told once, not at every interval while the cause stays
        state
            .events()
            .tell(
                EventReason.DriftCheckFailed,
                "drift check Job " + check.getJob() + " failed: " + check.getMessage());
      }
    } else if (!SKIPPED.equals(outcome)) {
      check.setFailures(null);
    }
  }

  private static List<String> listOrNull(List<String> tables) {
    return tables.isEmpty() ? null : SchemaDiff.firstNamed(tables);
  }
}
