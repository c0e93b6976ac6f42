package dev.schemagate.operator.status;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;

/**
 * What the composed status of one DatabaseMigration says, as its metrics show it (the alerts read
 * these): its phase; the Stalled reason while it needs a person; since when its app is held (the
 * RolloutHeld condition's last transition) and how many pods wait at its scheduling gate; the
 * Drifted reason while the last check found a drift; how many drift checks in a row have failed.
 * Pure.
 *
 * @param phase the phase, null before the first status
 * @param stalledReason the reason of Stalled=True, or null
 * @param heldSince when RolloutHeld became True, or null when nothing is held
 * @param podsAtGate pods waiting at the scheduling gate
 * @param driftReason DriftDetected or DriftAcknowledged while Drifted=True, or null
 * @param driftCheckFailures checks in a row that failed, 0 when the last one did not
 */
public record MigrationState(
    Phase phase,
    String stalledReason,
    Instant heldSince,
    int podsAtGate,
    String driftReason,
    int driftCheckFailures) {

  /**
   * The state a composed status shows, with the pods its reconcile, made at {@code now}, found at
   * the gate.
   */
  public static MigrationState of(DatabaseMigrationStatus status, int podsAtGate, Instant now) {
    String stalled =
        isTrue(status, Conditions.STALLED)
            .map(c -> Objects.requireNonNullElse(c.getReason(), "Unknown"))
            .orElse(null);
    Instant heldSince =
        isTrue(status, Conditions.ROLLOUT_HELD)
            .map(c -> since(c.getLastTransitionTime(), now))
            .orElse(null);
    String drift =
        isTrue(status, Conditions.DRIFTED)
            .map(Condition::getReason)
            .filter(
                r ->
                    Reason.DriftDetected.name().equals(r)
                        || Reason.DriftAcknowledged.name().equals(r))
            .orElse(null);
    DriftCheck check = status.getDrift() == null ? null : status.getDrift().getCheck();
    int failures =
        check != null && check.getOutcome() == CheckOutcome.Failed && check.getFailures() != null
            ? check.getFailures()
            : 0;
    return new MigrationState(status.getPhase(), stalled, heldSince, podsAtGate, drift, failures);
  }

  private static Optional<Condition> isTrue(DatabaseMigrationStatus status, String type) {
    return Conditions.find(status.getConditions(), type).filter(c -> "True".equals(c.getStatus()));
  }

  /** A condition's lastTransitionTime; now when it cannot be read (never in practice). */
  private static Instant since(String time, Instant now) {
    try {
      return time == null ? now : Instant.parse(time);
    } catch (DateTimeParseException e) {
      return now;
    }
  }
}
