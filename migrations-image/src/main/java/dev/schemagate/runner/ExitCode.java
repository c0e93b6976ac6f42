package dev.schemagate.runner;

/** The runner's exit codes: the operator turns them into condition reasons. */
public final class ExitCode {
  public static final int OK = 0;

  /** Bad configuration or arguments (no database settings, unknown target, bad location...). */
  public static final int CONFIGURATION = 2;

  /** Validation failed: checksum mismatch, applied migration missing locally, missing U script. */
  public static final int VALIDATION = 3;

  /** A migration's SQL failed; its transaction was rolled back. */
  public static final int MIGRATION = 4;

  /** The database could not be reached within the bounded retry. */
  public static final int UNREACHABLE = 5;

  /**
   * Another run held the migration lock (the advisory lock) for longer than
   * SCHEMAGATE_RUN_LOCK_WAIT.
   */
  public static final int RUN_LOCK_HELD = 6;

  /**
   * A migration could not get its table locks within its retries or the Job's deadline; rolled
   * back.
   */
  public static final int LOCK_TIMEOUT = 7;

  /**
   * A migration that ran outside a transaction failed part-way (or such a failure is recorded): a
   * person repairs it.
   */
  public static final int REPAIR_NEEDED = 8;

  /**
   * An upgrade run with an approved plan (SCHEMAGATE_APPROVED_PLAN) found another plan: the
   * database or the migrations changed since it was made. Nothing was applied.
   */
  public static final int PLAN_CHANGED = 10;

  /**
   * A check (SCHEMAGATE_DIRECTION=check) found a run holding the migration lock: it read nothing,
   * since the schema may be half-way, and did not wait.
   */
  public static final int MIGRATION_RUNNING = 11;

  /**
   * The target is the newest migration, and the database is above it: a newer image migrated it.
   * Nothing was applied.
   */
  public static final int DATABASE_AHEAD = 12;

  /**
   * The schema has objects but no schema history, and no baseline was given (SCHEMAGATE_BASELINE):
   * which migrations they are cannot be known. Nothing was changed.
   */
  public static final int BASELINE_REQUIRED = 13;

  private ExitCode() {}

  /** The operator's reason for an exit code (the same words as its Reason, dev.schemagate.api). */
  static String reason(int code) {
    return switch (code) {
      case OK -> "MigrationSucceeded";
      case CONFIGURATION -> "InvalidConfiguration";
      case VALIDATION -> "ValidationFailed";
      case UNREACHABLE -> "DatabaseUnreachable";
      case RUN_LOCK_HELD -> "MigrationLockHeld";
      case LOCK_TIMEOUT -> "LockTimeout";
      case REPAIR_NEEDED -> "RepairNeeded";
      case PLAN_CHANGED -> "PlanChanged";
      case MIGRATION_RUNNING -> "MigrationRunning";
      case DATABASE_AHEAD -> "DatabaseAhead";
      case BASELINE_REQUIRED -> "BaselineRequired";
      default -> "MigrationFailed";
    };
  }
}
