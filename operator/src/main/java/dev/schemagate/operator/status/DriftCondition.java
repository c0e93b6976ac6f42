package dev.schemagate.operator.status;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftSpec;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.OnDrift;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.plan.DriftPolicy;
import java.util.Objects;
import java.util.Optional;

/**
 * The Drifted condition, from spec.drift and status.drift. Pure. Absent without
 * spec.drift.interval; True when the last check found the live schema other than the recorded one
 * (reason DriftDetected, or DriftAcknowledged once spec.drift.acknowledged accepts it); False when
 * it found the same, or when a run has just recorded it; Unknown with no fingerprint to compare
 * with, or when the checks fail.
 */
public final class DriftCondition {
  private DriftCondition() {}

  public static void apply(DatabaseMigrationStatus status, DriftSpec spec, Conditions at) {
    if (DriftPolicy.interval(spec) == null) {
      status.setConditions(Conditions.remove(status.getConditions(), Conditions.DRIFTED));
      return;
    }
    DriftStatus drift = status.getDrift();
    String value;
    Reason reason;
    String message;
    if (drift == null || drift.getFingerprint() == null) {
      value = "Unknown";
      reason = Reason.NoFingerprint;
      message =
          drift == null || drift.getRecordedBy() == null
              ? "no successful run has recorded a schema fingerprint yet: drift is checked against"
                  + " the schema the last successful run left"
              : "run Job "
                  + drift.getRecordedBy()
                  + " reported no schema fingerprint, so there is none to check against: the image"
                  + " must report one (the Job contract's schema object; the schemagate runner and"
                  + " the Alembic wrapper do)";
    } else {
      Optional<LiveSchema> current = DriftPolicy.current(drift);
      DriftCheck check = drift.getCheck();
      boolean lastFailed =
          check != null
              && check.getOutcome() == CheckOutcome.Failed
              && Objects.equals(drift.getFingerprint(), check.getComparedWith());
      if (current.isEmpty() && lastFailed) {
        value = "Unknown";
        reason = Reason.DriftCheckFailed;
        message = "the drift check Job " + check.getJob() + " failed: " + check.getMessage();
      } else if (current.isEmpty()) {
        value = "False";
        reason = Reason.SchemaRecorded;
        message =
            "fingerprint "
                + drift.getFingerprint()
                + " recorded by Job "
                + drift.getRecordedBy()
                + " at "
                + drift.getRecordedAt()
                + "; checked every "
                + spec.getInterval();
      } else if (!Boolean.TRUE.equals(current.get().getDrifted())) {
        LiveSchema live = current.get();
        value = "False";
        reason = Reason.NoDrift;
        message =
            "the live schema matches fingerprint "
                + drift.getFingerprint()
                + " (checked at "
                + live.getCheckedAt()
                + " by Job "
                + live.getJob()
                + ")";
      } else {
        LiveSchema live = current.get();
        boolean acknowledged = DriftPolicy.acknowledged(spec, live);
        value = "True";
        reason = acknowledged ? Reason.DriftAcknowledged : Reason.DriftDetected;
        message =
            "the live schema (fingerprint "
                + live.getFingerprint()
                + ") differs from fingerprint "
                + drift.getFingerprint()
                + " that Job "
                + drift.getRecordedBy()
                + " recorded: "
                + live.getSummary()
                + " (checked at "
                + live.getCheckedAt()
                + " by Job "
                + live.getJob()
                + ")"
                + (acknowledged
                    ? "; acknowledged by spec.drift.acknowledged"
                    : spec.getOnDrift() == OnDrift.Block
                        ? "; a new run waits until spec.drift.acknowledged is set to "
                            + live.getFingerprint()
                            + " or the schema is put back"
                        : "");
      }
      if (current.isPresent() && lastFailed) {
        message += "; the last check (Job " + check.getJob() + ") failed: " + check.getMessage();
      }
    }
    status.setConditions(
        at.set(status.getConditions(), Conditions.DRIFTED, value, reason, message));
  }
}
