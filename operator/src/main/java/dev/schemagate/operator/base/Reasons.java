package dev.schemagate.operator.base;

/** The CamelCase reasons used in conditions, history and events: search for them. */
public final class Reasons {
  public static final String SUCCEEDED = "MigrationSucceeded";
  public static final String UP_TO_DATE = "UpToDate";
  public static final String RUNNING = "MigrationRunning";
  public static final String SUSPENDED = "Suspended";
  public static final String MIGRATION_FAILED = "MigrationFailed";
  public static final String VALIDATION_FAILED = "ValidationFailed";
  public static final String INVALID_CONFIGURATION = "InvalidConfiguration";
  public static final String DATABASE_UNREACHABLE = "DatabaseUnreachable";
  public static final String MIGRATION_LOCK_HELD = "MigrationLockHeld";
  public static final String LOCK_TIMEOUT = "LockTimeout";
  public static final String REPAIR_NEEDED = "RepairNeeded";
  public static final String MULTIPLE_HEADS = "MultipleHeads";
  public static final String DEADLINE_EXCEEDED = "DeadlineExceeded";
  public static final String IMAGE_PULL_FAILED = "ImagePullFailed";
  public static final String SECRET_NOT_FOUND = "SecretNotFound";
  public static final String CONTAINER_CREATE_FAILED = "ContainerCreateFailed";
  public static final String JOB_DELETED = "JobDeleted";
  public static final String JOB_REJECTED = "JobRejected";
  public static final String PODS_REJECTED = "PodsRejected";
  public static final String POD_UNSCHEDULABLE = "PodUnschedulable";
  public static final String NON_ROOT_USER_REQUIRED = "NonRootUserRequired";
  public static final String DELETION_WAITS_FOR_RUN = "DeletionWaitsForRun";
  public static final String DOWNGRADE_FORBIDDEN = "DowngradeForbidden";
  public static final String INVALID_SPEC = "InvalidSpec";
  public static final String POLICY_VIOLATION = "PolicyViolation";

  /** spec.approval: Manual: the plan Job runs. */
  public static final String PLANNING = "Planning";

  /** spec.approval: Manual: the plan waits for spec.approvedPlan to equal its hash. */
  public static final String APPROVAL_PENDING = "ApprovalPending";

  /** The plan Job failed: no plan, so nothing to approve. */
  public static final String PLAN_FAILED = "PlanFailed";

  /** The approved plan was no longer the plan when the run began: nothing was applied. */
  public static final String PLAN_CHANGED = "PlanChanged";

  /** spec.drift.onDrift: Block: a run waits until the drifted schema is acknowledged. */
  public static final String DRIFT_BLOCKED = "DriftBlocked";

  /** A run waits for a drift check Job to end (a check and a migration never run together). */
  public static final String DRIFT_CHECK_RUNNING = "DriftCheckRunning";

  /** Drifted=True: the live schema differs from the recorded one. */
  public static final String DRIFT_DETECTED = "DriftDetected";

  /** Drifted=True, and spec.drift.acknowledged accepts the live schema. */
  public static final String DRIFT_ACKNOWLEDGED = "DriftAcknowledged";

  /** Drifted=False: the last check found the recorded schema. */
  public static final String NO_DRIFT = "NoDrift";

  /** Drifted=False: a run just recorded the schema; no check has read it since. */
  public static final String SCHEMA_RECORDED = "SchemaRecorded";

  /** Drifted=Unknown: no fingerprint to compare with (the last run reported none). */
  public static final String NO_FINGERPRINT = "NoFingerprint";

  /** Drifted=Unknown: the drift checks failed to read the live schema. */
  public static final String DRIFT_CHECK_FAILED = "DriftCheckFailed";

  public static final String HELD = "DatabaseNotAtTarget";
  public static final String RELEASED = "DatabaseAtTarget";

  private Reasons() {}
}
