package dev.schemagate.operator.status;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Outcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What one reconcile measured, for {@link MigrationMetrics} once its writes are made. */
public final class Measurements {
  record FinishedRun(Direction direction, Outcome outcome, String reason, Duration took) {}

  private final List<FinishedRun> finishedRuns = new ArrayList<>();
  private final List<Duration> podsWaited = new ArrayList<>();
  private final List<CheckOutcome> driftChecks = new ArrayList<>();
  private MigrationState state;

  /** The state the composed status shows (its phase, what is held, stalled, drifted). */
  public void composed(MigrationState state) {
    this.state = state;
  }

  Optional<MigrationState> state() {
    return Optional.ofNullable(state);
  }

  /** A drift check ended with this outcome. */
  public void driftChecked(CheckOutcome outcome) {
    driftChecks.add(outcome);
  }

  List<CheckOutcome> driftChecks() {
    return driftChecks;
  }

  /** A pod's scheduling gate was lifted, this long after the pod was created. */
  public void podReleased(Duration waited) {
    podsWaited.add(waited);
  }

  List<Duration> podsWaited() {
    return podsWaited;
  }

  /** A run finished (a superseded run is not counted: it never ran). */
  public void runFinished(Direction direction, Outcome outcome, String reason, Duration took) {
    finishedRuns.add(new FinishedRun(direction, outcome, reason, took));
  }

  List<FinishedRun> finishedRuns() {
    return finishedRuns;
  }
}
