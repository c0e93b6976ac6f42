package dev.schemagate.operator.reconcile;

import dev.schemagate.operator.gate.PausePatch;
import dev.schemagate.operator.run.RunCodec;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The writes to Jobs, Deployments, pods and the plan's ConfigMap one reconcile decided, for the
 * ClusterWriter to make (with the Events and the status, which the state holds).
 */
public final class ClusterChanges {
  /** A pod's scheduling gate to lift: the pod as cached, and where the gate is among its gates. */
  public record GateLift(Pod pod, int index) {}

  /** The writes the ClusterWriter makes, as a refusal names them. */
  public enum Write {
    /** A Job of the operator's created: a run's, a plan's or a drift check's. */
    JOB,
    /** A gated Deployment paused (spec.paused: true and the held-by annotation). */
    HOLD,
    /** A gated Deployment resumed, or let go of this resource's hold. */
    RELEASE,
    /** A pod's scheduling gate lifted. */
    POD_GATE,
    /** The plan's ConfigMap written. */
    PLAN,
    /** A Job deleted, or given its owner reference. */
    CLEANUP
  }

  /**
   * A write the API server did not make as asked: it refused the object for what it is (400, 403,
   * 422: a value, a ResourceQuota, an admission policy, RBAC), or, for a Job, had one of that name
   * already (409).
   *
   * @param write which write it was
   * @param object what was to be written, as the reconcile decided it
   * @param message the API server's message
   */
  public record Refusal(Write write, HasMetadata object, int code, String message) {
    /** A Job of that name exists already: the names are deterministic, so it may be that Job. */
    public boolean exists() {
      return code == 409;
    }

    /** The kind and name of what was to be written. */
    public String what() {
      return object.getKind() + " " + object.getMetadata().getName();
    }
  }

  /**
   * What the API server did with the writes of one reconcile: what it refused, the Jobs it created
   * (with their UIDs), and the run Jobs not even asked for because the hold that must come first
   * was refused.
   */
  public record Written(List<Refusal> refusals, List<Job> created, List<Job> notAsked) {
    /** All written as asked. */
    public static final Written ALL = new Written(List.of(), List.of(), List.of());
  }

  private final List<String> supersededJobs = new ArrayList<>();
  private final List<PausePatch> gatePatches = new ArrayList<>();
  private final List<Job> newJobs = new ArrayList<>();
  private final List<Job> finishedJobsToDelete = new ArrayList<>();
  private final List<Job> jobsToOwn = new ArrayList<>();
  private final List<GateLift> gateLifts = new ArrayList<>();
  private ConfigMap planConfigMap;

  /** A Job of the operator's to create, of any kind: built whole ({@code JobFactory}). */
  void create(Job job) {
    newJobs.add(job);
  }

  /** The Jobs to create, in the order they were decided. */
  public List<Job> newJobs() {
    return newJobs;
  }

  /**
   * The run's Job to create, if one is (a plan's: {@link #planJob}; a check's: {@link #checkJob}).
   */
  public Optional<Job> newJob() {
    return newJobs.stream().filter(RunCodec::isRun).findFirst();
  }

  /** The plan Job to create (spec.approval: Manual), if one is. */
  public Optional<Job> planJob() {
    return newJobs.stream().filter(RunCodec::isPlan).findFirst();
  }

  /** The drift check Job to create (spec.drift), if one is. */
  public Optional<Job> checkJob() {
    return newJobs.stream().filter(RunCodec::isCheck).findFirst();
  }

  void lift(Pod pod, int index) {
    gateLifts.add(new GateLift(pod, index));
  }

  /** The pods whose revision is in place: their scheduling gate goes. */
  public List<GateLift> gateLifts() {
    return gateLifts;
  }

  /** A Job whose container never started, deleted with its pods. */
  void deleteSupersededJob(String name) {
    supersededJobs.add(name);
  }

  /**
   * The Jobs, by name, of runs a spec change superseded before their container started (or, on
   * deletion, of runs that never started), and of checks that could not start.
   */
  public List<String> supersededJobs() {
    return supersededJobs;
  }

  void patch(List<PausePatch> patches) {
    gatePatches.addAll(patches);
  }

  /** The gated Deployments to pause or resume, in order. */
  public List<PausePatch> gatePatches() {
    return gatePatches;
  }

  void writePlanConfigMap(ConfigMap configMap) {
    planConfigMap = configMap;
  }

  /** The ConfigMap of a plan just made: created, or its data replaced. */
  public Optional<ConfigMap> planConfigMap() {
    return Optional.ofNullable(planConfigMap);
  }

  void deleteFinishedJob(Job job) {
    finishedJobsToDelete.add(job);
  }

  /** Finished Jobs that no recorded or active run keeps. */
  public List<Job> finishedJobsToDelete() {
    return finishedJobsToDelete;
  }

  void own(Job job) {
    jobsToOwn.add(job);
  }

  /** Finished Jobs of recorded runs that do not carry their DatabaseMigration's owner reference. */
  public List<Job> jobsToOwn() {
    return jobsToOwn;
  }
}
