package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/**
 * How a migration behaves on a live database: the lock timeout and its retries, the statement
 * timeout, and how long a run waits for another run's migration lock. Passed to the Job as
 * SCHEMAGATE_LOCK_TIMEOUT, SCHEMAGATE_STATEMENT_TIMEOUT, SCHEMAGATE_LOCK_RETRIES and
 * SCHEMAGATE_RUN_LOCK_WAIT; the runner and the Alembic recipe have the same defaults.
 */
public class LocksSpec {
  static final String DURATION = "^(0|[0-9]+(ms|s|m|min|h))$";

  @Default("2s")
  @Pattern(DURATION)
  @JsonPropertyDescription(
      "The longest one statement of a migration waits for a lock (PostgreSQL lock_timeout), and so"
          + " the longest a query of the app queues behind it: the first attempt waits 50ms, each"
          + " retry twice as long, up to this. A duration such as 500ms, 2s or 1m; 0 waits forever.")
  private String lockTimeout = "2s";

  @Default("10")
  @Min(0)
  @Max(1000)
  @JsonPropertyDescription(
      "How many times a migration that gave up on a lock is rolled back and run again (after the"
          + " transactions holding the lock have ended), within the Job's deadline. Running out is"
          + " reason LockTimeout.")
  private Integer retries = 10;

  @Pattern(DURATION)
  @JsonPropertyDescription(
      "PostgreSQL statement_timeout of the migrations run in a transaction (unset or 0: none). A"
          + " migration that runs past it is rolled back and not retried.")
  private String statementTimeout;

  @Default("60s")
  @Pattern(DURATION)
  @JsonPropertyDescription(
      "How long a run waits for the migration lock (a PostgreSQL advisory lock) that another run"
          + " holds, before it fails with reason MigrationLockHeld naming the session that holds it.")
  private String runLockWait = "60s";

  public String getLockTimeout() {
    return lockTimeout;
  }

  public void setLockTimeout(String lockTimeout) {
    this.lockTimeout = lockTimeout;
  }

  public Integer getRetries() {
    return retries;
  }

  public void setRetries(Integer retries) {
    this.retries = retries;
  }

  public String getStatementTimeout() {
    return statementTimeout;
  }

  public void setStatementTimeout(String statementTimeout) {
    this.statementTimeout = statementTimeout;
  }

  public String getRunLockWait() {
    return runLockWait;
  }

  public void setRunLockWait(String runLockWait) {
    this.runLockWait = runLockWait;
  }
}
