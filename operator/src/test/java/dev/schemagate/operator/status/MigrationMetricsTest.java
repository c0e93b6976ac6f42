package dev.schemagate.operator.status;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Outcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
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
    measured.rolloutReleased(Duration.ofSeconds(5));

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
                .timer()
                .totalTime(java.util.concurrent.TimeUnit.SECONDS))
        .isEqualTo(3);
    assertThat(registry.get("schemagate.rollout.held").timer().count()).isEqualTo(1);
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
}
