package dev.schemagate.operator.status;

import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.operator.plan.DriftPolicy;
import java.util.Objects;
import java.util.Optional;

/**
 * What a drift check that read the live schema has to tell: a drift found (or a different one than
 * the last check found), or a drift gone. The same finding again tells nothing. Pure.
 */
public final class DriftEvents {
  private DriftEvents() {}

  /**
   * @param migration the DatabaseMigration, namespace/name
   * @param drift status.drift, with what the check just found ({@link DriftStatus#getLive})
   * @param before what the checks had found before it, against the same recorded fingerprint
   */
  public static Optional<ReconcileEvents.Notice> news(
      String migration, DriftStatus drift, Optional<LiveSchema> before) {
    LiveSchema live = DriftPolicy.current(drift).orElse(null);
    if (live == null || drift.getCheck() == null) {
      return Optional.empty();
    }
    String job = drift.getCheck().getJob();
    boolean drifted = Boolean.TRUE.equals(live.getDrifted());
    boolean wasDrifted = before.map(b -> Boolean.TRUE.equals(b.getDrifted())).orElse(false);
    if (drifted
        && (!wasDrifted || !Objects.equals(before.get().getFingerprint(), live.getFingerprint()))) {
      return Optional.of(
          new ReconcileEvents.Notice(
              EventReason.DriftDetected,
              "the live schema of "
                  + migration
                  + " differs from the one Job "
                  + drift.getRecordedBy()
                  + " left: "
                  + live.getSummary()
                  + " (fingerprint "
                  + live.getFingerprint()
                  + ", recorded "
                  + drift.getFingerprint()
                  + "; found by check Job "
                  + job
                  + ")"));
    }
    if (!drifted && wasDrifted) {
      return Optional.of(
          new ReconcileEvents.Notice(
              EventReason.DriftResolved,
              "the live schema of "
                  + migration
                  + " matches fingerprint "
                  + drift.getFingerprint()
                  + " again (check Job "
                  + job
                  + ")"));
    }
    return Optional.empty();
  }
}
