package dev.schemagate.operator.run;

import dev.schemagate.api.AppliedMigration;
import java.util.List;

/**
 * What a Job reported about its run: the revisions, the migrations applied and, on failure, the
 * failing revision and a message (already redacted).
 */
public record RunResult(
    String fromRevision,
    String toRevision,
    List<AppliedMigration> applied,
    int omitted,
    String failedRevision,
    String message) {

  public static final RunResult EMPTY = new RunResult(null, null, List.of(), 0, null, null);
}
