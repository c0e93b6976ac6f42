package dev.schemagate.operator.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Run;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.Measurements;
import dev.schemagate.operator.status.ReconcileEvents;
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
  private List<String> pausedByOthers = List.of();
  private int heldPodCount;
  private String podsWaitFor;
  private List<String> deadlineWarnings = List.of();
  private Duration lookAgainAfter;
  private String approvedPlan;
  private String planInputs;

  private ReconcileState(DatabaseMigration resource, ClusterView cluster, Instant now) {
    this.resource = resource;
    this.cluster = cluster;
    this.now = now;
    this.before =
        resource.getStatus() == null ? new DatabaseMigrationStatus() : resource.getStatus();
    this.status = JSON.convertValue(JSON.valueToTree(before), DatabaseMigrationStatus.class);
  }

  /** The state of a reconcile of {@code resource} that reads {@code cluster} at {@code now}. */
  public static ReconcileState begin(DatabaseMigration resource, ClusterView cluster, Instant now) {
    return new ReconcileState(resource, cluster, now);
  }

  /** The DatabaseMigration as read. */
  public DatabaseMigration resource() {
    return resource;
  }

  ClusterView cluster() {
    return cluster;
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

  /** What the planner decided, when no run was under way; else null. */
  Decision decision() {
    return decision;
  }

  void decide(Decision decision) {
    this.decision = decision;
  }

  /** The run decided applies this approved plan: its Job checks it is still the plan. */
  void approvedPlan(String hash, String inputs) {
    approvedPlan = hash;
    planInputs = inputs;
  }

  /** The approved plan's hash the run applies, or null (spec.approval: Automatic). */
  String approvedPlan() {
    return approvedPlan;
  }

  /** The inputs the plan hash covers besides the database (image and target). */
  String planInputs() {
    return planInputs;
  }

  /** Gated Deployments paused by someone else, which the gate leaves as they are. */
  List<String> pausedByOthers() {
    return pausedByOthers;
  }

  void pausedByOthers(List<String> names) {
    pausedByOthers = names;
  }

  /** How many pods wait at the gate, and for what (the first one's requirement). */
  void podsHeld(int count, String waitFor) {
    heldPodCount = count;
    podsWaitFor = waitFor;
  }

  int heldPodCount() {
    return heldPodCount;
  }

  String podsWaitFor() {
    return podsWaitFor;
  }

  /** Gated Deployments whose progress deadline ends before the migration's may. */
  void deadlineWarnings(List<String> warnings) {
    deadlineWarnings = warnings;
  }

  List<String> deadlineWarnings() {
    return deadlineWarnings;
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
