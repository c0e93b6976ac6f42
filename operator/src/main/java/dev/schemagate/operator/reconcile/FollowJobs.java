package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.JobRecord;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.PlanPhase;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.DriftChecks;
import dev.schemagate.operator.plan.DriftPolicy;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.plan.PlanPolicy;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.Observation;
import dev.schemagate.operator.run.PlanConfigMap;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunRecorder;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.DriftEvents;
import dev.schemagate.operator.status.EventReason;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Step: every open Job of the resource goes through the one lifecycle of a Job of the operator's:
 * observed (the Job, its pods, the Job controller's Events), and once it has ended, its result read
 * and recorded. A Job is made by the step that found it due, and built whole by {@code JobFactory};
 * its kind gives only what its result means ({@link RunRecorder}, {@link PlanPolicy}, {@link
 * DriftPolicy}).
 *
 * <ul>
 *   <li>The run under way is the status's active run, or a Job of a run no status records (the
 *       operator stopped, or lost its status write, after creating it): a running one, or the Job
 *       of the run the planner decides, adopted. A run that ended goes into history (on success it
 *       sets the revision the database is at), and the next is looked for; one whose container
 *       never started and whose spec has changed since is superseded: into history too, its Job
 *       deleted.
 *   <li>The plan being made: once its Job has ended, the plan it reported, or why it made none.
 *   <li>The drift check under way: once its Job has ended, or can no longer start, what it found.
 * </ul>
 */
public final class FollowJobs implements Step {
  private static final Logger LOG = Logger.getLogger(FollowJobs.class);

  private final MigrationPolicy policy;

  /** Adopts the Job of the run the planner decides under the cluster admin's policy. */
  public FollowJobs(MigrationPolicy policy) {
    this.policy = policy;
  }

  @Override
  public void apply(ReconcileState state) {
    followRuns(state);
    followPlan(state);
    followCheck(state);
    state.tellLookAlikes();
  }

  private void followRuns(ReconcileState state) {
    Run run = state.status().getActiveRun();
    if (run == null) {
      run = adoptRunning(state).orElse(null);
    }
    if (run != null && recorded(state, run)) {
      adoptRunning(state).ifPresent(next -> recorded(state, next));
    }
    if (state.runUnderWay()) {
      return;
    }
    // the Job of the run the planner decides exists already: its creation was never recorded
    if (RunPlanner.decide(state.withStatus(), policy) instanceof Decision.Start start) {
      Job existing = state.jobs().forInputs(start.run());
      if (existing != null) {
        state.events().adopted("adopted existing Job " + start.run().jobName());
        String created = existing.getMetadata().getCreationTimestamp();
        Run adopted =
            RunCodec.run(start.run(), created != null ? created : Time.format(state.now()));
        adopted.setJobUid(existing.getMetadata().getUid());
        recorded(state, adopted);
      }
    }
  }

  /** A running Job of a run of this resource that no status records, the newest, adopted. */
  private static Optional<Run> adoptRunning(ReconcileState state) {
    Set<String> recorded =
        state.status().getHistory().stream().map(HistoryEntry::getId).collect(Collectors.toSet());
    Optional<Job> orphan =
        state.jobs().all().stream()
            .filter(RunCodec::isRun)
            .filter(j -> !recorded.contains(RunCodec.runId(j)))
            .filter(j -> !RunObserver.finished(j))
            .max(Comparator.comparing(j -> String.valueOf(j.getMetadata().getCreationTimestamp())));
    orphan.ifPresent(
        job -> state.events().adopted("adopted running Job " + job.getMetadata().getName()));
    return orphan.map(
        job -> {
          Run run = RunCodec.run(RunCodec.inputs(job), job.getMetadata().getCreationTimestamp());
          run.setJobUid(job.getMetadata().getUid());
          return run;
        });
  }

  /**
   * A record of an earlier operator names its Job without its UID: it is bound to the Job it was
   * first seen with, and only that one is read for it from now on.
   */
  private static Observation bound(JobRecord record, Observation seen) {
    if (record.getJobUid() == null && seen.job() != null) {
      record.setJobUid(seen.job().getMetadata().getUid());
    }
    return seen;
  }

  /** Follows the run; records it if it has ended, and returns whether it did. */
  private static boolean recorded(ReconcileState state, Run run) {
    Observation seen = bound(run, observe(state, state.jobs().observe(run)));
    state.follow(run, seen.state());
    if (seen.state() instanceof RunState.Blocked
        && !Objects.equals(run.getGeneration(), state.generation())) {
      state.changes().deleteSupersededJob(run.getJob());
      HistoryEntry entry = record(state, seen);
      state
          .events()
          .tell(
              EventReason.RunSuperseded,
              "deleted Job " + run.getJob() + ", which never started: " + entry.getMessage());
      return true;
    }
    if (!seen.ended()) {
      return false;
    }
    HistoryEntry entry = record(state, seen);
    Instant started = Optional.ofNullable(Time.parse(run.getStartedAt())).orElse(state.now());
    state
        .measurements()
        .runFinished(
            run.getDirection(),
            entry.getOutcome(),
            entry.getReason(),
            Duration.between(started, state.now()));
    state.events().finished(entry, run.getJob());
    String ref = state.namespace() + "/" + state.name();
    if (entry.getOutcome() == Outcome.Succeeded) {
      LOG.infof("%s: run %s succeeded: %s", ref, run.getId(), entry.getMessage());
    } else {
      LOG.infof(
          "%s: run %s failed (%s): %s", ref, run.getId(), entry.getReason(), entry.getMessage());
    }
    return true;
  }

  private static HistoryEntry record(ReconcileState state, Observation seen) {
    HistoryEntry entry =
        RunRecorder.finish(
            state.status(),
            state.run(),
            seen.state(),
            seen.pods().imageId(),
            state.resource().getSpec().getHistoryLimit(),
            state.now());
    state.runRecorded();
    return entry;
  }

  /** The plan being made: once its Job has ended, the plan, or why there is none. */
  private static void followPlan(ReconcileState state) {
    PlanStatus plan = state.status().getPlan();
    if (plan == null
        || (plan.getPhase() != null && plan.getPhase() != PlanPhase.Planning)
        || state.jobs().named(plan.getJob()) == null) {
      return; // none is being made, or its Job is not made yet: the plan's step makes it
    }
    Observation seen = bound(plan, observe(state, state.jobs().observe(plan)));
    state.planSeen(plan.getJob(), seen.state());
    if (!seen.ended()) {
      return;
    }
    PlanPolicy.Made made = PlanPolicy.made(plan, seen, state.name(), state.now());
    state.status().setPlan(made.plan());
    if (made.failed()) {
      state
          .events()
          .tell(
              EventReason.PlanFailed,
              "plan Job " + plan.getJob() + " failed: " + made.plan().getMessage());
      return;
    }
    state.changes().writePlanConfigMap(PlanConfigMap.of(state.resource(), made.plan(), made.sql()));
    state
        .events()
        .tell(
            EventReason.PlanReady,
            "plan " + made.plan().getHash() + " made: " + made.plan().getSummary());
  }

  /** The drift check under way: once its Job has ended, or can no longer start, what it found. */
  private static void followCheck(ReconcileState state) {
    DriftStatus drift = state.status().getDrift();
    DriftCheck check = drift == null ? null : drift.getCheck();
    if (check == null || check.getOutcome() != null) {
      return;
    }
    Observation seen = bound(check, observe(state, state.jobs().observe(check)));
    Optional<DriftChecks.Found> found = DriftChecks.found(drift, seen, state.now());
    if (found.isEmpty()) {
      return;
    }
    if (seen.state() instanceof RunState.Blocked) {
      // its container never started: it goes, so that it holds up no run
      state.changes().deleteSupersededJob(check.getJob());
    }
    check.setSeconds(seen.seconds());
    state.checkEnded(check, found.get().outcome(), found.get().message());
    if (found.get().live() != null) {
      Optional<LiveSchema> before = DriftPolicy.current(drift);
      drift.setLive(found.get().live());
      DriftEvents.news(state.namespace() + "/" + state.name(), drift, before)
          .ifPresent(news -> state.events().tell(news.reason(), news.message()));
    }
  }

  /** An observation, with a reconcile asked for when a finished Job's result is still due. */
  private static Observation observe(ReconcileState state, Observation seen) {
    if (seen.state() instanceof RunState.AwaitingResult awaiting && awaiting.retryAfter() != null) {
      state.lookAgainAfter(awaiting.retryAfter());
    }
    return seen;
  }
}
