package dev.schemagate.operator.plan;

import dev.schemagate.api.DriftSpec;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.OnDrift;
import dev.schemagate.operator.base.Intervals;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** What spec.drift asks for, read against status.drift. Pure. */
public final class DriftPolicy {
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
}
