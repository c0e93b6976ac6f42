package dev.schemagate.operator.base;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
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

  /**
   * The contract part of the spec's release that is not applied yet (its expand part is): the app
   * of this release runs on the expanded schema while it waits; null when there is none.
   */
  public static ContractStatus contractPending(
      DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    ContractStatus contract = status == null ? null : status.getContract();
    if (contract == null
        || contract.getPhase() == null
        || contract.getPhase() == ContractPhase.Completed) {
      return null;
    }
    return Objects.equals(spec.getImage(), contract.getImage())
            && Objects.equals(spec.getTargetRevision(), contract.getTargetRevision())
        ? contract
        : null;
  }

  /**
   * Whether the app of the spec's release may run: the database is at the target, or the expand
   * part of the release is in place and only its contract part waits.
   */
  public static boolean appReleased(DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    return atTarget(spec, status) || contractPending(spec, status) != null;
  }
}
