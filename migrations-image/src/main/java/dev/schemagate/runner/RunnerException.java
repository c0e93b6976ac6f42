package dev.schemagate.runner;

/** A failure with the exit code it ends the run with, and the migration it concerns (if any). */
public class RunnerException extends RuntimeException {
  private final int exitCode;
  private final String failedRevision;

  public RunnerException(int exitCode, String message) {
    this(exitCode, message, null, null);
  }

  public RunnerException(int exitCode, String message, String failedRevision, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
    this.failedRevision = failedRevision;
  }

  public int exitCode() {
    return exitCode;
  }

  public String failedRevision() {
    return failedRevision;
  }
}
