package dev.schemagate.operator.status;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import io.fabric8.kubernetes.api.model.Condition;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a reconcile measured, counted once its writes are made. */
class MigrationMetricsTest {

  @Test
  void aReconcileCountsItsFinishedRunsAndReleases() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MigrationMetrics metrics = new MigrationMetrics(registry);
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    Measurements measured = new Measurements();
    measured.runFinished(
        Direction.UPGRADE, Outcome.Succeeded, "MigrationSucceeded", Duration.ofSeconds(3));

    metrics.record(dbm, measured, Instant.parse("2026-11-25T10:00:00Z"));

    assertThat(
            registry
                .get("schemagate.runs")
                .tag("outcome", "Succeeded")
                .tag("direction", "upgrade")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("schemagate.run.duration")
                .tags("outcome", "Succeeded", "direction", "upgrade")
                .timer()
                .totalTime(java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(3);
    assertThat(
            registry
                .get("schemagate.last.success.timestamp.seconds")
                .tag("name", "orders")
                .gauge()
                .value())
        .isEqualTo(Instant.parse("2026-11-25T10:00:00Z").getEpochSecond());

    metrics.forget(dbm);
    assertThat(registry.find("schemagate.last.success.timestamp.seconds").gauges()).isEmpty();
  }

  /** The state the alerts read: set while it is so, gone when it is not. */
  @Test
  void aStateSeriesIsThereWhileItIsSoAndGoesWhenItIsNot() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MigrationMetrics metrics = new MigrationMetrics(registry);
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    Instant now = Instant.parse("2026-11-25T10:00:00Z");
    Instant heldSince = now.minusSeconds(90);

    metrics.record(dbm, composed(Phase.Failed, "ImagePullFailed", heldSince, 2, null, 0), now);
    assertThat(
            registry
                .get("schemagate.migration.stalled")
                .tag("reason", "ImagePullFailed")
                .gauge()
                .value())
        .isEqualTo(1);
    assertThat(registry.get("schemagate.rollout.held.since.timestamp.seconds").gauge().value())
        .isEqualTo(heldSince.getEpochSecond());
    assertThat(registry.get("schemagate.pods.at.gate").tag("name", "orders").gauge().value())
        .isEqualTo(2);
    assertThat(registry.get("schemagate.migrations").tag("phase", "Failed").gauge().value())
        .isEqualTo(1);
    assertThat(registry.find("schemagate.drift.detected").gauges()).isEmpty();

    // a new reason replaces the series; a drift appears
    metrics.record(
        dbm, composed(Phase.Failed, "MigrationFailed", heldSince, 0, "DriftDetected", 3), now);
    assertThat(registry.find("schemagate.migration.stalled").gauges())
        .singleElement()
        .satisfies(g -> assertThat(g.getId().getTag("reason")).isEqualTo("MigrationFailed"));
    assertThat(registry.find("schemagate.pods.at.gate").gauges()).isEmpty();
    assertThat(
            registry.get("schemagate.drift.detected").tag("acknowledged", "false").gauge().value())
        .isEqualTo(1);
    assertThat(registry.get("schemagate.drift.check.consecutive.failures").gauge().value())
        .isEqualTo(3);

    // fixed and released: only the phase count is left
    metrics.record(dbm, composed(Phase.Ready, null, null, 0, "DriftAcknowledged", 0), now);
    assertThat(registry.find("schemagate.migration.stalled").gauges()).isEmpty();
    assertThat(registry.find("schemagate.rollout.held.since.timestamp.seconds").gauges()).isEmpty();
    assertThat(registry.find("schemagate.drift.check.consecutive.failures").gauges()).isEmpty();
    assertThat(
            registry.get("schemagate.drift.detected").tag("acknowledged", "true").gauge().value())
        .isEqualTo(1);
    assertThat(registry.get("schemagate.migrations").tag("phase", "Failed").gauge().value())
        .isZero();
    assertThat(registry.get("schemagate.migrations").tag("phase", "Ready").gauge().value())
        .isEqualTo(1);

    metrics.forget(dbm);
    assertThat(registry.find("schemagate.drift.detected").gauges()).isEmpty();
    assertThat(registry.get("schemagate.migrations").tag("phase", "Ready").gauge().value())
        .isZero();
  }

  /**
   * The series dashboards and alerts read with increase() or rate() are there at 0 before anything
   * happened: one first scraped at 1 would show no increase, and the first failure go unseen.
   */
  @Test
  void theEventSeriesAreThereAtZeroBeforeAnythingHappened() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    new MigrationMetrics(registry);
    for (String direction : List.of("upgrade", "downgrade")) {
      assertThat(
              registry
                  .get("schemagate.runs")
                  .tags("outcome", "Failed", "direction", direction, "reason", "MigrationFailed")
                  .counter()
                  .count())
          .isZero();
      assertThat(
              registry
                  .get("schemagate.runs")
                  .tags(
                      "outcome",
                      "Succeeded",
                      "direction",
                      direction,
                      "reason",
                      "MigrationSucceeded")
                  .counter()
                  .count())
          .isZero();
      assertThat(registry.get("schemagate.run.duration").tag("direction", direction).timers())
          .hasSize(Outcome.values().length);
    }
    for (CheckOutcome outcome : CheckOutcome.values()) {
      assertThat(
              registry
                  .get("schemagate.drift.checks")
                  .tag("outcome", outcome.name())
                  .counter()
                  .count())
          .isZero();
    }
    assertThat(registry.get("schemagate.rollout.held").timer().count()).isZero();
    assertThat(registry.get("schemagate.pod.gate.wait").timer().count()).isZero();
  }

  /**
   * How long an app was held is observed once, when the hold ends, whichever way it held: paused
   * Deployments, or pods at the scheduling gate (the chart's default, where no Deployment is ever
   * paused).
   */
  @Test
  void aHoldIsObservedOnceWhenItEnds() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MigrationMetrics metrics = new MigrationMetrics(registry);
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    Instant since = Instant.parse("2026-11-25T10:00:00Z");

    metrics.record(dbm, composed(Phase.Migrating, null, since, 2, null, 0), since.plusSeconds(1));
    metrics.record(dbm, composed(Phase.Migrating, null, since, 2, null, 0), since.plusSeconds(20));
    assertThat(registry.get("schemagate.rollout.held").timer().count()).as("still held").isZero();

    metrics.record(dbm, composed(Phase.Ready, null, null, 0, null, 0), since.plusSeconds(42));
    metrics.record(dbm, composed(Phase.Ready, null, null, 0, null, 0), since.plusSeconds(50));
    assertThat(registry.get("schemagate.rollout.held").timer().count()).isEqualTo(1);
    assertThat(
            registry
                .get("schemagate.rollout.held")
                .timer()
                .totalTime(java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(42);
  }

  /**
   * A registry may outlive the instance that registered its gauges (an application restarted in the
   * same process, as the tests do): the newest instance's state is what they show.
   */
  @Test
  void aNewInstanceOnTheSameRegistryShowsItsOwnState() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    Instant now = Instant.parse("2026-11-25T10:00:00Z");
    new MigrationMetrics(registry)
        .record(dbm, composed(Phase.Failed, "MigrationFailed", now, 1, null, 0), now);

    MigrationMetrics restarted = new MigrationMetrics(registry);
    restarted.record(dbm, composed(Phase.Migrating, "MigrationFailed", now, 3, null, 0), now);
    assertThat(registry.get("schemagate.migrations").tag("phase", "Migrating").gauge().value())
        .isEqualTo(1);
    assertThat(registry.get("schemagate.migrations").tag("phase", "Failed").gauge().value())
        .isZero();
    assertThat(registry.get("schemagate.pods.at.gate").gauge().value()).isEqualTo(3);
  }

  @Test
  void theStateIsReadFromTheComposedStatus() {
    Instant now = Instant.parse("2026-11-25T10:00:00Z");
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setPhase(Phase.Failed);
    List<Condition> c = new ArrayList<>();
    c =
        new Conditions(1, now.minusSeconds(5))
            .set(c, Conditions.STALLED, true, Reason.MigrationFailed, "m");
    c =
        new Conditions(1, now.minusSeconds(600))
            .set(c, Conditions.ROLLOUT_HELD, true, Reason.DatabaseNotAtTarget, "m");
    c = new Conditions(1, now).set(c, Conditions.DRIFTED, "True", Reason.DriftDetected, "m");
    status.setConditions(c);
    DriftStatus drift = new DriftStatus();
    DriftCheck check = new DriftCheck();
    check.setOutcome(CheckOutcome.Failed);
    check.setFailures(2);
    drift.setCheck(check);
    status.setDrift(drift);

    assertThat(MigrationState.of(status, 3, now))
        .isEqualTo(
            new MigrationState(
                Phase.Failed, "MigrationFailed", now.minusSeconds(600), 3, "DriftDetected", 2));

    Conditions at = new Conditions(1, now);
    status.setConditions(
        at.set(
            at.set(status.getConditions(), Conditions.STALLED, false, Reason.UpToDate, ""),
            Conditions.ROLLOUT_HELD,
            false,
            Reason.DatabaseAtTarget,
            ""));
    check.setOutcome(CheckOutcome.NoDrift);
    assertThat(MigrationState.of(status, 0, now))
        .isEqualTo(new MigrationState(Phase.Failed, null, null, 0, "DriftDetected", 0));
  }

  private static Measurements composed(
      Phase phase, String stalled, Instant heldSince, int pods, String drift, int failures) {
    Measurements measured = new Measurements();
    measured.composed(new MigrationState(phase, stalled, heldSince, pods, drift, failures));
    return measured;
  }
}
