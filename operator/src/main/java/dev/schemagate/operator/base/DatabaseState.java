package dev.schemagate.operator.base;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import java.util.Objects;

/** What the status says of the database, against the spec. Pure. */
public final class DatabaseState {
  private DatabaseState() {}

  /**
   * Whether the database is at the target of the spec: the last successful run had this spec's
   * image and target revision (status.appliedImage, status.appliedTargetRevision).
   */
  public static boolean atTarget(DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    return status != null
        && Objects.equals(spec.getImage(), status.getAppliedImage())
        && Objects.equals(spec.getTargetRevision(), status.getAppliedTargetRevision());
  }
}
