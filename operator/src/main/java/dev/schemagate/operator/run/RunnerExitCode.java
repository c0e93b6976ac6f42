package dev.schemagate.operator.run;

import dev.schemagate.api.Reason;
import java.util.Arrays;
import java.util.List;

/**
 * The exit codes of the schemagate runner (the table in migrations-image/README.md, the runner's
 * {@code ExitCode}) and the reason each gives a failed run; the Alembic kit
 * (alembic-kit/schemagate_alembic/job.py) exits with the same codes, and 9 for several heads. Any
 * other code is a failed migration. Each says whether another pod of the same Job may try again
 * (spec.job.backoffLimit above 0): a database that was unreachable or a lock that was held may be
 * free a moment later; a wrong configuration, a failed validation or SQL, a migration that needs a
 * repair, several heads, a plan that changed or a database ahead of the image are the same on every
 * try, and a repair must never be tried by itself. The Job's pod failure policy fails the Job at
 * once on those ({@link JobFactory}).
 */
enum RunnerExitCode {
  INVALID_CONFIGURATION(2, Reason.InvalidConfiguration, false),
  VALIDATION_FAILED(3, Reason.ValidationFailed, false),
  MIGRATION_FAILED(4, Reason.MigrationFailed, false),
  DATABASE_UNREACHABLE(5, Reason.DatabaseUnreachable, true),
  MIGRATION_LOCK_HELD(6, Reason.MigrationLockHeld, true),
  LOCK_TIMEOUT(7, Reason.LockTimeout, true),
  REPAIR_NEEDED(8, Reason.RepairNeeded, false),
  MULTIPLE_HEADS(9, Reason.MultipleHeads, false),
  PLAN_CHANGED(10, Reason.PlanChanged, false),
  /** A drift check found a migration holding the run lock: it read nothing. */
  MIGRATION_RUNNING(11, Reason.MigrationRunning, true),
  /** The database is at a revision the image does not have: a newer image migrated it. */
  DATABASE_AHEAD(12, Reason.DatabaseAhead, false),
  /** The database has objects but no history, and no baseline was given: nothing was changed. */
  BASELINE_REQUIRED(13, Reason.BaselineRequired, false);

  private final int code;
  private final Reason reason;
  private final boolean retryable;

  RunnerExitCode(int code, Reason reason, boolean retryable) {
    this.code = code;
    this.reason = reason;
    this.retryable = retryable;
  }

  /** The codes no other pod of the Job tries again after, in order. */
  static List<Integer> notRetried() {
    return Arrays.stream(values()).filter(c -> !c.retryable).map(c -> c.code).toList();
  }

  /** The reason of a runner that exited with this code; null (no code) is a failed migration. */
  static Reason reasonFor(Integer exit) {
    return Arrays.stream(values())
        .filter(c -> exit != null && c.code == exit)
        .map(c -> c.reason)
        .findFirst()
        .orElse(Reason.MigrationFailed);
  }
}
