package dev.schemagate.operator.run;

import dev.schemagate.api.AppliedMigration;
import dev.schemagate.api.PlannedMigration;
import java.util.List;

/**
 * What a Job reported about its run: the revisions, the migrations applied, the fingerprint of the
 * schema it left (successful runs of a tool that reports one) and, on failure, the failing revision
 * and a message (already redacted); for an upgrade that held the contract part back, the migrations
 * it held (from the first contract migration to the target), and for one that adopted the database,
 * the baseline it recorded.
 */
public record RunResult(
    String fromRevision,
    String toRevision,
    List<AppliedMigration> applied,
    int omitted,
    String failedRevision,
    String message,
    SchemaFingerprint schema,
    List<PlannedMigration> held,
    String baseline) {

  public static final RunResult EMPTY = new RunResult(null, null, List.of(), 0, null, null);

  public RunResult {
    held = held == null ? List.of() : List.copyOf(held);
  }

  /** A result without held migrations or a baseline. */
  public RunResult(
      String fromRevision,
      String toRevision,
      List<AppliedMigration> applied,
      int omitted,
      String failedRevision,
      String message,
      SchemaFingerprint schema) {
    this(fromRevision, toRevision, applied, omitted, failedRevision, message, schema, null, null);
  }

  /** A result without a schema fingerprint. */
  public RunResult(
      String fromRevision,
      String toRevision,
      List<AppliedMigration> applied,
      int omitted,
      String failedRevision,
      String message) {
    this(fromRevision, toRevision, applied, omitted, failedRevision, message, null);
  }
}
