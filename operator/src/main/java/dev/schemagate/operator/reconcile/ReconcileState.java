package dev.schemagate.operator.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.JobRecord;
import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.gate.RolloutProgress;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.DriftChecks;
import dev.schemagate.operator.plan.UnderWay;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.Measurements;
import dev.schemagate.operator.status.ReconcileEvents;
import dev.schemagate.operator.status.StatusComposer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One reconcile of one DatabaseMigration: what it reads, what its steps find and decide, and what
 * they leave to write. The resource as read is never changed: the status is composed on a copy.
 */
public final class ReconcileState {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DatabaseMigration resource;
  private final OurJobs jobs;
  private final ClusterView cluster;
  private final Instant now;
  private final DatabaseMigrationStatus before;
  private final DatabaseMigrationStatus status;
  private final ReconcileEvents events = new ReconcileEvents();
  private final ClusterChanges changes = new ClusterChanges();
  private final Measurements measurements = new Measurements();
  private Run run;
  private RunState runState;
  private Decision decision;
  private String planJob;
  private RunState planState;
  private List<String> pausedByOthers = List.of();
  private int heldPodCount;
  private String podsWaitFor;
  private boolean podsOnContracted;
  private List<String> deadlineWarnings = List.of();
  private Duration lookAgainAfter;
  private ClusterChanges.Written written = ClusterChanges.Written.ALL;
  private Decision.Refused writeRefused;

  private ReconcileState(
      DatabaseMigration resource, ClusterView cluster, Instant now, JobDefaults defaults) {
    this.resource = resource;
    this.cluster = cluster;
    this.now = now;
    this.before =
        resource.getStatus() == null ? new DatabaseMigrationStatus() : resource.getStatus();
    this.status = JSON.convertValue(JSON.valueToTree(before), DatabaseMigrationStatus.class);
    this.jobs = new OurJobs(cluster, resource, before, status, defaults, now);
  }

  /**
   * The state of a reconcile of {@code resource} that reads {@code cluster} at {@code now}; a Job
   * no status records is the resource's only if it is the one {@code JobFactory} builds with these
   * defaults.
   */
  public static ReconcileState begin(
      DatabaseMigration resource, ClusterView cluster, Instant now, JobDefaults defaults) {
    return new ReconcileState(resource, cluster, now, defaults);
  }

  /** The same, with the operator's standard Job defaults. */
  public static ReconcileState begin(DatabaseMigration resource, ClusterView cluster, Instant now) {
    return begin(resource, cluster, now, JobDefaults.STANDARD);
  }

  /** The DatabaseMigration as read. */
  public DatabaseMigration resource() {
    return resource;
  }

  /** The caches, for what is not a Job of this resource's (Deployments, the app's pods). */
  ClusterView cluster() {
    return cluster;
  }

  /** The Jobs of this resource, and their pods. */
  OurJobs jobs() {
    return jobs;
  }

  public Instant now() {
    return now;
  }

  public String namespace() {
    return resource.getMetadata().getNamespace();
  }

  public String name() {
    return resource.getMetadata().getName();
  }

  long generation() {
    return Objects.requireNonNullElse(resource.getMetadata().getGeneration(), 0L);
  }

  /** The status as read. */
  public DatabaseMigrationStatus before() {
    return before;
  }

  /** The status the steps compose. */
  public DatabaseMigrationStatus status() {
    return status;
  }

  /** Whether the composed status differs from the one read. */
  public boolean statusChanged() {
    return !JSON.valueToTree(before).equals(JSON.valueToTree(status));
  }

  /**
   * The resource as read, with the composed status: what the planner decides from and what is
   * written.
   */
  public DatabaseMigration withStatus() {
    DatabaseMigration copy = new DatabaseMigration();
    copy.setMetadata(resource.getMetadata());
    copy.setSpec(resource.getSpec());
    copy.setStatus(status);
    return copy;
  }

  /** The record of the status that names this Job: the run under way, the plan, the check. */
  JobRecord recordOf(String job) {
    if (status.getActiveRun() != null && job.equals(status.getActiveRun().getJob())) {
      return status.getActiveRun();
    }
    if (status.getPlan() != null && job.equals(status.getPlan().getJob())) {
      return status.getPlan();
    }
    DriftStatus drift = status.getDrift();
    if (drift != null && drift.getCheck() != null && job.equals(drift.getCheck().getJob())) {
      return drift.getCheck();
    }
    return null;
  }

  /** The run under way, or null. */
  Run run() {
    return run;
  }

  /** How the run under way stands. */
  RunState runState() {
    return runState;
  }

  boolean runUnderWay() {
    return run != null;
  }

  /** The run under way, and how it stands; it is the status's active run. */
  void follow(Run run, RunState state) {
    this.run = run;
    this.runState = state;
    status.setActiveRun(run);
  }

  /** The run that was to start did not (its Job was refused): none is under way. */
  void unfollow() {
    run = null;
    runState = null;
    status.setActiveRun(null);
  }

  /** The run under way went into history: none is under way now. */
  void runRecorded() {
    run = null;
    runState = null;
  }

  /** What was decided, when no run was under way; else null. */
  Decision decision() {
    return decision;
  }

  void decide(Decision decision) {
    this.decision = decision;
  }

  /** How the plan Job of status.plan stands, as it was observed. */
  void planSeen(String job, RunState state) {
    planJob = job;
    planState = state;
  }

  /**
   * The Jobs besides the runs that may hold a run back: the drift checks still running (not one
   * whose end was just recorded), and the plan Job.
   */
  UnderWay underWay() {
    DriftStatus drift = status.getDrift();
    String ended =
        drift != null && drift.getCheck() != null && drift.getCheck().getOutcome() != null
            ? drift.getCheck().getJob()
            : null;
    List<String> checks =
        jobs.all().stream()
            .filter(RunCodec::isCheck)
            .filter(j -> !RunObserver.finished(j))
            .map(j -> j.getMetadata().getName())
            .filter(name -> !name.equals(ended))
            .toList();
    List<String> foreign =
        jobs.foreignRuns().stream().map(j -> "Job " + j.name() + " (" + j.why() + ")").toList();
    return new UnderWay(foreign, checks, planJob, planState, rolloutProgress());
  }

  /**
   * How far the gated workloads have rolled out: the Deployments spec.gate names, and the pods that
   * name this DatabaseMigration and still wait at its scheduling gate.
   */
  RolloutProgress rolloutProgress() {
    List<String> gatedPods =
        cluster.appPods(namespace(), name()).stream()
            .filter(PodRequirement::gated)
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .map(p -> p.getMetadata().getName())
            .sorted()
            .toList();
    return RolloutProgress.of(
        RolloutGate.gatedNames(resource),
        deployment ->
            Names.isValidObjectName(deployment)
                ? cluster.deployment(namespace(), deployment)
                : null,
        gatedPods,
        name(),
        required -> PodRequirement.contractedByPending(required, resource.getSpec(), status));
  }

  /** Tells each look-alike met in this reconcile as a Warning Event naming it (once: deduped). */
  void tellLookAlikes() {
    for (OurJobs.LookAlike found : jobs.lookAlikes()) {
      boolean job = "Job".equals(found.kind());
      events.tell(
          job ? EventReason.ForeignJob : EventReason.ForeignPod,
          (job ? "Job " : "pod ")
              + found.name()
              + " carries the labels and annotations of DatabaseMigration "
              + name()
              + "'s runs but is not "
              + (job ? "a Job the operator made" : "a pod of the operator's Job")
              + ": "
              + found.why()
              + (job
                  ? "; nothing it reports is recorded (delete it if no one needs it)"
                  : "; nothing it reports is read"));
    }
  }

  /**
   * A drift check ended: its record says how, it is counted, and a failure is told as an Event,
   * once, not at every interval while its cause stays.
   */
  void checkEnded(DriftCheck check, CheckOutcome outcome, String why) {
    if (DriftChecks.finish(check, outcome, why, now)) {
      events.tell(
          EventReason.DriftCheckFailed,
          "drift check Job " + check.getJob() + " failed: " + check.getMessage());
    }
    measurements.driftChecked(outcome);
  }

  /** Gated Deployments paused by someone else, which the gate leaves as they are. */
  void pausedByOthers(List<String> names) {
    pausedByOthers = names;
  }

  /** How many pods wait at the gate, and for what (the first one's requirement). */
  void podsHeld(int count, String waitFor, boolean contracted) {
    heldPodCount = count;
    podsWaitFor = waitFor;
    podsOnContracted = contracted;
  }

  /** Gated Deployments whose progress deadline ends before the migration's may. */
  void deadlineWarnings(List<String> warnings) {
    deadlineWarnings = warnings;
  }

  /** What holds the gated app, besides the Deployments status.heldDeployments names. */
  StatusComposer.Rollout rollout() {
    return new StatusComposer.Rollout(
        pausedByOthers, heldPodCount, podsWaitFor, podsOnContracted, deadlineWarnings);
  }

  /** What the API server did with the cluster's writes: what it refused, the Jobs it made. */
  public void written(ClusterChanges.Written written) {
    this.written = written;
  }

  ClusterChanges.Written written() {
    return written;
  }

  /**
   * The run under way whose Job this reconcile created, if any: the record that must not be lost
   * with the status write, for nothing else could prove that Job the operator's once the spec has
   * changed (its image may no longer be spec.image, and a run's Job has no owner reference).
   */
  public Optional<Run> startedRun() {
    Run run = status.getActiveRun();
    return run != null
            && written.created().stream()
                .anyMatch(job -> run.getJob().equals(job.getMetadata().getName()))
        ? Optional.of(run)
        : Optional.empty();
  }

  /**
   * A write the API server refused that needs a person (a gate, a pod's gate, the plan's
   * ConfigMap): it is the verdict, whatever the run or the decision; the first one told wins.
   */
  void writeRefused(Decision.Refused refused) {
    if (writeRefused == null) {
      writeRefused = refused;
    }
  }

  /** The refused write that is the verdict, or null. */
  Decision.Refused writeRefused() {
    return writeRefused;
  }

  /** Asks for another reconcile after this long at most, for state no event will announce. */
  void lookAgainAfter(Duration after) {
    if (lookAgainAfter == null || after.compareTo(lookAgainAfter) < 0) {
      lookAgainAfter = after;
    }
  }

  /** When to reconcile again if no event comes first, if the steps asked for it. */
  public Optional<Duration> lookAgainAfter() {
    return Optional.ofNullable(lookAgainAfter);
  }

  public ReconcileEvents events() {
    return events;
  }

  public ClusterChanges changes() {
    return changes;
  }

  public Measurements measurements() {
    return measurements;
  }
}
