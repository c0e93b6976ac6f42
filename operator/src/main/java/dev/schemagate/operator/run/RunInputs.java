package dev.schemagate.operator.run;

import dev.schemagate.api.Direction;

/**
 * Everything that defines one Job of the operator's, a run, a plan or a drift check (its {@link
 * #direction}): the Job is built from these and the resource alone ({@link JobFactory}).
 *
 * @param approvedPlan the hash of the plan a run applies (spec.approval: Manual), which its Job
 *     checks is still the plan; null for none
 * @param part which migrations an upgrade applies: all of them, the expand part or the contract
 *     part of a release
 */
public record RunInputs(
    String id,
    String jobName,
    Direction direction,
    String image,
    String requestedImage,
    String targetRevision,
    String fromRevision,
    long generation,
    String approvedPlan,
    RunPart part) {

  public RunInputs {
    part = part == null ? RunPart.ALL : part;
  }

  /** The inputs of a run applying an approved plan, of every migration to the target. */
  public RunInputs(
      String id,
      String jobName,
      Direction direction,
      String image,
      String requestedImage,
      String targetRevision,
      String fromRevision,
      long generation,
      String approvedPlan) {
    this(
        id,
        jobName,
        direction,
        image,
        requestedImage,
        targetRevision,
        fromRevision,
        generation,
        approvedPlan,
        RunPart.ALL);
  }

  /** The inputs of a run or a check, with no plan to apply. */
  public RunInputs(
      String id,
      String jobName,
      Direction direction,
      String image,
      String requestedImage,
      String targetRevision,
      String fromRevision,
      long generation) {
    this(
        id,
        jobName,
        direction,
        image,
        requestedImage,
        targetRevision,
        fromRevision,
        generation,
        null);
  }

  /** The same run, applying the approved plan of this hash. */
  public RunInputs applying(String planHash) {
    return new RunInputs(
        id,
        jobName,
        direction,
        image,
        requestedImage,
        targetRevision,
        fromRevision,
        generation,
        planHash,
        part);
  }

  /** The same run, applying this part of the release. */
  public RunInputs applying(RunPart part) {
    return new RunInputs(
        id,
        jobName,
        direction,
        image,
        requestedImage,
        targetRevision,
        fromRevision,
        generation,
        approvedPlan,
        part);
  }

  /** The plan of this run: its Job (id and name of its own) reports what this run would apply. */
  public RunInputs plan(String planId, String planJob) {
    return new RunInputs(
        planId,
        planJob,
        Direction.PLAN,
        image,
        requestedImage,
        targetRevision,
        fromRevision,
        generation);
  }

  /**
   * What the plan hash covers besides the database: the image and the target. A plan Job reports
   * the hash of these, and the run's Job checks it against them (SCHEMAGATE_PLAN_INPUTS).
   */
  public String planInputs() {
    return "image=" + image + " target=" + targetRevision;
  }
}
