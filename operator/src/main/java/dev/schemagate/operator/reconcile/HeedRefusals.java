package dev.schemagate.operator.reconcile;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.JobRecord;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.DriftPolicy;
import dev.schemagate.operator.run.ResultParser;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Step, after the cluster's writes and before the status is written: the one place where a write
 * the API server did not make becomes part of the verdict, for every write. Each refusal (400, 403
 * or 422 for what it is: a value, a ResourceQuota, an admission policy or webhook, RBAC) has its
 * reason, the API server's message, a Warning Event (the verdict's new Stalled reason tells it),
 * and is tried again with a backoff that doubles from 1 s to 60 s and never stops, so that the
 * write is made, once, as soon as the cause is gone (a spec change tries at once):
 *
 * <ul>
 *   <li>a Job of that name that exists already is that Job when it is the one the operator would
 *       create (a run's is adopted); one that is not is a look-alike: the run cannot start under
 *       its name (ForeignJob) until someone deletes it;
 *   <li>a run's Job, or a plan's (the run cannot start without its plan): no run is under way; the
 *       resource is Failed with reason JobRejected, and its app stays held;
 *   <li>a drift check's: the check failed; the next one is tried after the interval;
 *   <li>the hold on a gated Deployment (GateRejected): the app is not held, so the run's Job is not
 *       even asked for (the hold always comes first); its release: the Deployment stays paused;
 *   <li>the lift of a pod's scheduling gate (PodGateRejected): the pod keeps waiting;
 *   <li>the plan's ConfigMap (PlanRejected): the plan stays being made until its SQL is written;
 *       one of its name that is not this DatabaseMigration's (someone else's) is never written
 *       over: the same, until it is renamed or deleted;
 *   <li>a Job's deletion: told, and tried again.
 * </ul>
 */
public final class HeedRefusals implements Step {
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration LONGEST_RETRY = Duration.ofSeconds(60);

  @Override
  public void apply(ReconcileState state) {
    ClusterChanges.Written written = state.written();
    if (written.notAsked().stream().anyMatch(RunCodec::isRun)) {
      state.unfollow();
      state.events().notStarted();
    }
    List<ClusterChanges.Refusal> holds = new ArrayList<>();
    List<ClusterChanges.Refusal> releases = new ArrayList<>();
    List<ClusterChanges.Refusal> lifts = new ArrayList<>();
    for (ClusterChanges.Refusal refusal : written.refusals()) {
      switch (refusal.write()) {
        case JOB -> jobRefused(state, (Job) refusal.object(), refusal);
        case HOLD -> holds.add(refusal);
        case RELEASE -> releases.add(refusal);
        case POD_GATE -> lifts.add(refusal);
        case PLAN -> planRefused(state, refusal);
        case CLEANUP ->
            state
                .events()
                .tell(
                    EventReason.CleanupRejected,
                    "the API server refused to delete "
                        + refusal.what()
                        + " ("
                        + refusal.code()
                        + "): "
                        + Redactor.redact(refusal.message())
                        + "; tried again at the next reconcile");
      }
    }
    if (!holds.isEmpty()) {
      holdRefused(state, holds, !written.notAsked().isEmpty());
    }
    if (!releases.isEmpty()) {
      releaseRefused(state, releases);
    }
    if (!lifts.isEmpty()) {
      liftRefused(state, lifts);
    }
    state.tellLookAlikes();
  }

  private static void jobRefused(ReconcileState state, Job job, ClusterChanges.Refusal refusal) {
    String name = job.getMetadata().getName();
    if (!refusal.exists()) {
      if (RunCodec.isCheck(job)) {
        checkRefused(state, name, refusal);
      } else {
        runRefused(state, name, refusal);
      }
      return;
    }
    Job existing = state.jobs().forInputs(RunCodec.inputs(job));
    if (existing != null) {
      JobRecord record = state.recordOf(name);
      if (record != null && record.getJobUid() == null) {
        record.setJobUid(existing.getMetadata().getUid());
      }
      if (RunCodec.isRun(job)) {
        state.events().adopted("adopted existing Job " + name);
      }
      return;
    }
    String why =
        state
            .jobs()
            .taken(name)
            .map(OurJobs.LookAlike::why)
            .orElse(
                "the operator does not see it: it lacks the label "
                    + RunCodec.MANAGED_SELECTOR
                    + " or the annotation "
                    + RunCodec.MIGRATION);
    if (RunCodec.isCheck(job)) {
      checkRefused(state, name, refusal);
      return;
    }
    state.unfollow();
    state.events().notStarted();
    state.decide(
        new Decision.Refused(
            Reason.ForeignJob,
            "the name of this "
                + (RunCodec.isPlan(job) ? "plan's" : "run's")
                + " Job, "
                + name
                + ", is taken by a Job the operator did not make ("
                + why
                + "): its result would not be recorded. Delete it; the Job is created once the name"
                + " is free",
            true));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.ForeignJob));
  }

  private static void runRefused(ReconcileState state, String job, ClusterChanges.Refusal refusal) {
    state.unfollow();
    state.events().notStarted();
    String said =
        ResultParser.shorten(
            "the API server refused Job "
                + job
                + " ("
                + refusal.code()
                + "): "
                + Redactor.redact(refusal.message())
                + "; fix the cause (spec.job, a ResourceQuota or an admission policy of namespace "
                + state.namespace()
                + "): the Job is tried again until it is accepted");
    state.decide(new Decision.Refused(Reason.JobRejected, said, true));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.JobRejected));
  }

  private static void checkRefused(
      ReconcileState state, String job, ClusterChanges.Refusal refusal) {
    DriftStatus drift = state.status().getDrift();
    DriftCheck check = drift == null ? null : drift.getCheck();
    if (check == null || !job.equals(check.getJob())) {
      return;
    }
    state.checkEnded(
        check,
        CheckOutcome.Failed,
        refusal.exists()
            ? "the name of the check Job is taken by a Job the operator did not make"
            : "the API server refused the check Job ("
                + refusal.code()
                + "): "
                + Redactor.redact(refusal.message()));
    Duration interval = DriftPolicy.interval(state.resource().getSpec().getDrift());
    if (interval != null) {
      state.lookAgainAfter(interval); // no Job's events will bring the next check
    }
  }

  /**
   * The app could not be held: the Deployments are not held (status says so), no run starts (its
   * Job was not asked for), and the hold is tried again.
   */
  private static void holdRefused(
      ReconcileState state, List<ClusterChanges.Refusal> refused, boolean runHeldBack) {
    List<String> names = names(refused);
    DatabaseMigrationStatus status = state.status();
    List<String> held = new ArrayList<>(status.getHeldDeployments());
    held.removeAll(names);
    status.setHeldDeployments(held);
    state.events().notHeld(names);
    String message =
        "the API server refused to pause "
            + describe(refused)
            + ": the app is not held"
            + (runHeldBack
                ? ", so the migration does not start (the hold always comes first)"
                : state.runUnderWay() ? " while Job " + state.run().getJob() + " runs" : "")
            + ". Fix the cause (an admission policy or webhook on Deployments, or the operator's"
            + " RBAC): the hold is tried again until it is accepted";
    state.writeRefused(new Decision.Refused(Reason.GateRejected, message, true));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.GateRejected));
  }

  /** The app could not be released: the Deployments stay paused, and the release is tried again. */
  private static void releaseRefused(ReconcileState state, List<ClusterChanges.Refusal> refused) {
    List<String> names = names(refused);
    DatabaseMigrationStatus status = state.status();
    List<String> held = new ArrayList<>(status.getHeldDeployments());
    names.stream().filter(n -> !held.contains(n)).forEach(held::add);
    status.setHeldDeployments(held);
    state.events().notReleased(names);
    String message =
        "the API server refused to resume "
            + describe(refused)
            + ": "
            + (names.size() == 1 ? "it stays" : "they stay")
            + " paused. Fix the cause (an admission policy or webhook on Deployments, or the"
            + " operator's RBAC): the release is tried again until it is accepted";
    state.writeRefused(new Decision.Refused(Reason.GateRejected, message, false));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.GateRejected));
  }

  private static void liftRefused(ReconcileState state, List<ClusterChanges.Refusal> refused) {
    String message =
        "the API server refused to lift the scheduling gate schemagate.dev/migration of "
            + describe(refused)
            + ": "
            + (refused.size() == 1 ? "it waits" : "they wait")
            + " though the revision "
            + (refused.size() == 1 ? "it needs is" : "they need is")
            + " in place. Fix the cause (an admission policy or webhook on pods, or the operator's"
            + " RBAC): the lift is tried again until it is accepted";
    state.writeRefused(new Decision.Refused(Reason.PodGateRejected, message, false));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.PodGateRejected));
  }

  /**
   * The plan's SQL could not be written for review: the plan stays being made (as status had it),
   * so that the next reconcile reads the plan Job's result again and writes it.
   */
  private static void planRefused(ReconcileState state, ClusterChanges.Refusal refusal) {
    state.status().setPlan(state.before().getPlan());
    state.events().withdraw(EventReason.PlanReady);
    String message =
        refusal.code() == 409
            ? Redactor.redact(refusal.message())
                + ". The plan is not shown for approval until its SQL is written: rename or delete"
                + " that ConfigMap, or rename this DatabaseMigration; it is tried again until then"
            : "the API server refused the plan's ConfigMap "
                + refusal.object().getMetadata().getName()
                + " ("
                + refusal.code()
                + "): "
                + Redactor.redact(refusal.message())
                + ". The plan is not shown for approval until its SQL is written: fix the cause (an"
                + " admission policy or webhook on ConfigMaps, a ResourceQuota, or the operator's"
                + " RBAC); it is written again until it is accepted";
    state.writeRefused(new Decision.Refused(Reason.PlanRejected, message, true));
    state.lookAgainAfter(retryAfter(state.before(), state.now(), Reason.PlanRejected));
  }

  private static List<String> names(List<ClusterChanges.Refusal> refused) {
    return refused.stream().map(r -> r.object().getMetadata().getName()).distinct().toList();
  }

  /** The refused objects and the API server's message for the first of them. */
  private static String describe(List<ClusterChanges.Refusal> refused) {
    ClusterChanges.Refusal first = refused.get(0);
    return ResultParser.shorten(
        String.join(", ", refused.stream().map(ClusterChanges.Refusal::what).toList())
            + " ("
            + first.code()
            + ": "
            + Redactor.redact(first.message())
            + ")");
  }

  /** Twice as long as the write has been refused so far (Stalled with its reason), 1 s to 60 s. */
  static Duration retryAfter(DatabaseMigrationStatus before, Instant now, Reason reason) {
    Duration refusedFor =
        Conditions.isTrue(before.getConditions(), Conditions.STALLED)
            .filter(c -> Objects.equals(reason.name(), c.getReason()))
            .map(c -> Duration.between(Time.parse(c.getLastTransitionTime()), now))
            .orElse(Duration.ZERO);
    if (refusedFor.compareTo(FIRST_RETRY) < 0) {
      return FIRST_RETRY;
    }
    return refusedFor.compareTo(LONGEST_RETRY) > 0 ? LONGEST_RETRY : refusedFor;
  }

  /** The backoff of a Job refused so far (JobRejected), for the tests that drive it. */
  static Duration retryAfter(DatabaseMigrationStatus before, Instant now) {
    return retryAfter(before, now, Reason.JobRejected);
  }
}
