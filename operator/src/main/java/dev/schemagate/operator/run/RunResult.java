package dev.schemagate.operator.run;

import dev.schemagate.api.AppliedMigration;
import java.util.List;

/**
 * What a Job reported about its run: the revisions, the migrations applied, the fingerprint of the
 * schema it left (successful runs of a tool that reports one) and, on failure, the failing revision
 * and a message (already redacted).
 */
public record RunResult(
    String fromRevision,
    String toRevision,
    List<AppliedMigration> applied,
    int omitted,
    String failedRevision,
    String message,
    SchemaFingerprint schema) {

  public static final RunResult EMPTY = new RunResult(null, null, List.of(), 0, null, null);

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
