package dev.schemagate.operator.plan;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftSpec;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.OnDrift;
import dev.schemagate.operator.base.Intervals;
import dev.schemagate.operator.base.Time;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What spec.drift asks for, read against status.drift: when a check is due, what the checks found
 * of the live schema, and what a drift does to a run. What one check Job is and what it found:
 * {@link DriftChecks}. Pure.
 */
public final class DriftPolicy {
  /** How soon a check that found a migration under way is tried again, at most. */
  static final Duration SKIPPED_RETRY = Duration.ofSeconds(30);

  private DriftPolicy() {}

  /** The check interval, or null when spec.drift asks for no checks. */
  public static Duration interval(DriftSpec spec) {
    Duration interval = spec == null ? null : Intervals.parse(spec.getInterval());
    return interval == null || interval.isZero() ? null : interval;
  }

  /**
   * What the last check found of the live schema, when it was compared with the fingerprint
   * recorded now (a check made before the last run compared it with another).
   */
  public static Optional<LiveSchema> current(DriftStatus drift) {
    if (drift == null || drift.getFingerprint() == null || drift.getLive() == null) {
      return Optional.empty();
    }
    LiveSchema live = drift.getLive();
    return Objects.equals(drift.getFingerprint(), live.getComparedWith())
        ? Optional.of(live)
        : Optional.empty();
  }

  /** Whether spec.drift.acknowledged accepts this live schema. */
  public static boolean acknowledged(DriftSpec spec, LiveSchema live) {
    return spec != null
        && live != null
        && Objects.equals(spec.getAcknowledged(), live.getFingerprint());
  }

  /**
   * With onDrift: Block, why a run may not start: the last check found a drift nobody acknowledged.
   * Empty when a run may start.
   */
  public static Optional<String> blocking(DriftSpec spec, DriftStatus drift) {
    if (interval(spec) == null || spec.getOnDrift() != OnDrift.Block) {
      return Optional.empty();
    }
    return current(drift)
        .filter(live -> Boolean.TRUE.equals(live.getDrifted()))
        .filter(live -> !acknowledged(spec, live))
        .map(
            live ->
                "the live schema drifted from the one the last run recorded ("
                    + live.getSummary()
                    + "; fingerprint "
                    + live.getFingerprint()
                    + ", recorded "
                    + drift.getFingerprint()
                    + "): the run waits (spec.drift.onDrift: Block). Review the change, then set"
                    + " spec.drift.acknowledged: "
                    + live.getFingerprint()
                    + " to let it run, or put the schema back (the next check sees it)");
  }

  /** A hold ({@link RunPlanner#HOLDS}): a drift nobody acknowledged blocks the run. */
  static Decision blocks(DatabaseMigration dbm, Decision.Start start, UnderWay underWay) {
    DriftStatus drift = dbm.getStatus() == null ? null : dbm.getStatus().getDrift();
    return blocking(dbm.getSpec().getDrift(), drift)
        .<Decision>map(Decision.DriftBlocked::new)
        .orElse(start);
  }

  /** A hold ({@link RunPlanner#HOLDS}): a run waits for the check Jobs under way to end. */
  static Decision awaitsCheck(DatabaseMigration dbm, Decision.Start start, UnderWay underWay) {
    if (underWay.checks().isEmpty()) {
      return start;
    }
    return new Decision.AwaitingCheck(
        "the drift check Job "
            + String.join(", ", underWay.checks())
            + " is running: the run starts once it has ended (a check and a migration of a"
            + " resource never run together)");
  }

  /**
   * When the next check is due: an interval after the last check ended (began, while it has not),
   * or after the fingerprint was recorded if that came later; soon after a check that found a
   * migration under way. From the end, so that a check that takes longer than the interval (a large
   * schema, a busy database) is never followed by the next one at once.
   */
  public static Instant due(DriftStatus drift, Duration interval, Instant now) {
    Instant base = Time.parse(drift.getRecordedAt());
    Duration wait = interval;
    DriftCheck last = drift.getCheck();
    if (last != null && last.getStartedAt() != null) {
      Instant started = Time.parse(last.getStartedAt());
      if (base == null || !started.isBefore(base)) {
        Instant finished = Time.parse(last.getFinishedAt());
        base = finished != null ? finished : started;
        if (last.getOutcome() == CheckOutcome.Skipped && interval.compareTo(SKIPPED_RETRY) > 0) {
          wait = SKIPPED_RETRY;
        }
      }
    }
    return base == null ? now : base.plus(wait);
  }
}
