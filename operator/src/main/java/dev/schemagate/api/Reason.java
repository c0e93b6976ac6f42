package dev.schemagate.api;

/**
 * The CamelCase reasons of the conditions and of the history's entries: every word the operator
 * writes as a reason, each spelled as it is written (search for them). Events have reasons of their
 * own (a fixed set, in the operator), several of them the same words.
 */
public enum Reason {
  /** A run reached its target. */
  MigrationSucceeded,
  /** Ready: the database is at the target of the spec. */
  UpToDate,
  /**
   * A run is under way (and, for a drift check, a migration held the run lock: it read nothing).
   */
  MigrationRunning,
  /** spec.suspend is true. */
  Suspended,
  /** The migration failed: the runner's exit code 4, or any code it has no reason for. */
  MigrationFailed,
  /** The runner's validation failed (exit code 3). */
  ValidationFailed,
  /** The runner's configuration is wrong (exit code 2). */
  InvalidConfiguration,
  /** The database could not be reached (exit code 5). */
  DatabaseUnreachable,
  /** Another run held the migration lock past spec.locks.runLockWait (exit code 6). */
  MigrationLockHeld,
  /** A migration gave up on a lock after its retries (exit code 7). */
  LockTimeout,
  /** The tool's history needs a repair (exit code 8). */
  RepairNeeded,
  /** Alembic found several heads (exit code 9). */
  MultipleHeads,
  /** The Job ran longer than its activeDeadlineSeconds. */
  DeadlineExceeded,
  /** The migration image cannot be pulled. */
  ImagePullFailed,
  /** The container cannot start: the Secret of spec.database (or of spec.env) is missing. */
  SecretNotFound,
  /** The container runtime could not create the container. */
  ContainerCreateFailed,
  /** The Job was deleted before it reported a result: the outcome is unknown. */
  JobDeleted,
  /**
   * The Job completed, but no pod of its own (controlled by it, running what it says) reported
   * success: the outcome is unknown.
   */
  ResultMissing,
  /**
   * A Job with this resource's labels and annotations that the operator cannot prove its own: it
   * holds the name of the run's Job, or it runs (no run starts meanwhile). It is never recorded.
   */
  ForeignJob,
  /**
   * The database is at a revision the image does not know (a newer image migrated it): the older
   * image cannot say that the database is at its target.
   */
  DatabaseAhead,
  /** The API server refused the Job (a value, a ResourceQuota, an admission policy, RBAC). */
  JobRejected,
  /**
   * The API server refused to pause or resume a gated Deployment (an admission policy or webhook,
   * RBAC): the app is not held (and the run does not start), or stays held.
   */
  GateRejected,
  /** The API server refused to lift the scheduling gate of pods whose revision is in place. */
  PodGateRejected,
  /** The API server refused the plan's ConfigMap: the plan is not shown for approval. */
  PlanRejected,
  /** The API server refuses the Job's pods (quota, LimitRange, PodSecurity). */
  PodsRejected,
  /** No node can run the Job's pod. */
  PodUnschedulable,
  /** The image runs as root, or names its user without a number the kubelet can check. */
  NonRootUserRequired,
  /** Reconciling: the resource was deleted while a Job of it runs. */
  DeletionWaitsForRun,
  /** The target is below the current revision and spec.downgrade.policy is not Allow. */
  DowngradeForbidden,
  /** The spec cannot be acted on; the message names the field. */
  InvalidSpec,
  /** The cluster admin's policy (the chart's policy values) does not allow the run. */
  PolicyViolation,
  /** spec.approval: Manual: the plan Job runs. */
  Planning,
  /** spec.approval: Manual: the plan waits for spec.approvedPlan to equal its hash. */
  ApprovalPending,
  /** The plan Job failed: no plan, so nothing to approve. */
  PlanFailed,
  /** The approved plan was no longer the plan when the run began: nothing was applied. */
  PlanChanged,
  /** spec.drift.onDrift: Block: a run waits until the drifted schema is acknowledged. */
  DriftBlocked,
  /** A run waits for a drift check Job to end (a check and a migration never run together). */
  DriftCheckRunning,
  /** Drifted=True: the live schema differs from the recorded one. */
  DriftDetected,
  /** Drifted=True, and spec.drift.acknowledged accepts the live schema. */
  DriftAcknowledged,
  /** Drifted=False: the last check found the recorded schema. */
  NoDrift,
  /** Drifted=False: a run just recorded the schema; no check has read it since. */
  SchemaRecorded,
  /** Drifted=Unknown: no fingerprint to compare with (the last run reported none). */
  NoFingerprint,
  /** Drifted=Unknown: the drift checks failed to read the live schema. */
  DriftCheckFailed,
  /**
   * Ready=True: the expand part of the release is in place and the app released; the contract part
   * waits for the gated workloads to roll out.
   */
  AwaitingRollout,
  /**
   * The contract part waits: a gated Deployment reports ProgressDeadlineExceeded (Stalled=True); it
   * never runs while the rollout is stuck.
   */
  RolloutStuck,
  /** spec.contract: Manual: the contract part waits for spec.approvedContract. */
  ContractApprovalPending,
  /**
   * The database has objects but no history table, and spec.baseline names no revision: nothing was
   * changed (exit code 13).
   */
  BaselineRequired,
  /**
   * RolloutHeld=True: pods wait that need a revision a contract migration applied since has removed
   * what they use (a rollback onto a contracted schema).
   */
  SchemaContracted,
  /** RolloutHeld=True: the gated app is held until the database reaches the target. */
  DatabaseNotAtTarget,
  /** RolloutHeld=False: the gated app runs. */
  DatabaseAtTarget,
  /** Stalled=False. */
  NotStalled;

  /** Whether a run that ended with this reason has an unknown outcome: it may run again. */
  public boolean outcomeUnknown() {
    return this == JobDeleted || this == ResultMissing;
  }

  /**
   * The reason a history entry records, as this vocabulary has it; a word it no longer has (an
   * older operator's) reads as {@link #MigrationFailed}.
   */
  public static Reason of(String recorded) {
    for (Reason reason : values()) {
      if (reason.name().equals(recorded)) {
        return reason;
      }
    }
    return MigrationFailed;
  }
}
