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

  private ExitCode() {}
}
