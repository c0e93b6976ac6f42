package dev.schemagate.operator.run;

import dev.schemagate.operator.base.Reasons;
import java.util.Arrays;

/**
 * The exit codes of the schemagate runner (the table in migrations-image/README.md, the runner's
 * {@code ExitCode}) and the reason each gives a failed run; the Alembic wrapper (alembic-run.sh)
 * exits with the same codes, and 9 for several heads. Any other code is a failed migration.
 */
enum RunnerExitCode {
  INVALID_CONFIGURATION(2, Reasons.INVALID_CONFIGURATION),
  VALIDATION_FAILED(3, Reasons.VALIDATION_FAILED),
  MIGRATION_FAILED(4, Reasons.MIGRATION_FAILED),
  DATABASE_UNREACHABLE(5, Reasons.DATABASE_UNREACHABLE),
  MIGRATION_LOCK_HELD(6, Reasons.MIGRATION_LOCK_HELD),
  LOCK_TIMEOUT(7, Reasons.LOCK_TIMEOUT),
  REPAIR_NEEDED(8, Reasons.REPAIR_NEEDED),
  MULTIPLE_HEADS(9, Reasons.MULTIPLE_HEADS),
  PLAN_CHANGED(10, Reasons.PLAN_CHANGED),
  /** A drift check found a migration holding the run lock: it read nothing. */
  MIGRATION_RUNNING(11, Reasons.RUNNING);

  private final int code;
  private final String reason;

  RunnerExitCode(int code, String reason) {
    this.code = code;
    this.reason = reason;
  }

  /** The reason of a runner that exited with this code; null (no code) is a failed migration. */
  static String reasonFor(Integer exit) {
    return Arrays.stream(values())
        .filter(c -> exit != null && c.code == exit)
        .map(c -> c.reason)
        .findFirst()
        .orElse(Reasons.MIGRATION_FAILED);
  }
}
