package dev.schemagate.operator.reconcile;

import dev.schemagate.operator.gate.PausePatch;
import dev.schemagate.operator.run.RunInputs;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The writes to Jobs and Deployments one reconcile decided, for the ClusterWriter to make (with the
 * Events and the status, which the state holds).
 */
public final class ClusterChanges {
  /** A run's Job to create. */
  public record NewJob(Job job, RunInputs run) {}

  /** A pod's scheduling gate to lift: the pod as cached, and where the gate is among its gates. */
  public record GateLift(Pod pod, int index) {}

  private final List<String> supersededJobs = new ArrayList<>();
  private final List<PausePatch> gatePatches = new ArrayList<>();
  private NewJob newJob;
  private final List<Job> finishedJobsToDelete = new ArrayList<>();
  private final List<Job> jobsToOwn = new ArrayList<>();
  private final List<GateLift> gateLifts = new ArrayList<>();

  void lift(Pod pod, int index) {
    gateLifts.add(new GateLift(pod, index));
  }

  /** The pods whose revision is in place: their scheduling gate goes. */
  public List<GateLift> gateLifts() {
    return gateLifts;
  }

  void deleteSupersededJob(String name) {
    supersededJobs.add(name);
  }

  void patch(List<PausePatch> patches) {
    gatePatches.addAll(patches);
  }

  private Job planJob;
  private ConfigMap planConfigMap;

  void createPlanJob(Job job) {
    planJob = job;
  }

  /** The plan Job to create (spec.approval: Manual). */
  public Optional<Job> planJob() {
    return Optional.ofNullable(planJob);
  }

  private Job checkJob;

  void createCheckJob(Job job) {
    checkJob = job;
  }

  /** The drift check Job to create (spec.drift). */
  public Optional<Job> checkJob() {
    return Optional.ofNullable(checkJob);
  }

  void writePlanConfigMap(ConfigMap configMap) {
    planConfigMap = configMap;
  }

  /** The ConfigMap of a plan just made: created, or its data replaced. */
  public Optional<ConfigMap> planConfigMap() {
    return Optional.ofNullable(planConfigMap);
  }

  void create(Job job, RunInputs run) {
    newJob = new NewJob(job, run);
  }

  void deleteFinishedJob(Job job) {
    finishedJobsToDelete.add(job);
  }

  void own(Job job) {
    jobsToOwn.add(job);
  }

  /** Finished Jobs of recorded runs that do not carry their DatabaseMigration's owner reference. */
  public List<Job> jobsToOwn() {
    return jobsToOwn;
  }

  /**
   * The Jobs, by name, of runs a spec change superseded before their container started (or, on
   * deletion, of runs that never started).
   */
  public List<String> supersededJobs() {
    return supersededJobs;
  }

  /** The gated Deployments to pause or resume, in order. */
  public List<PausePatch> gatePatches() {
    return gatePatches;
  }

  public Optional<NewJob> newJob() {
    return Optional.ofNullable(newJob);
  }

  /** Finished Jobs that no recorded or active run keeps. */
  public List<Job> finishedJobsToDelete() {
    return finishedJobsToDelete;
  }
}
