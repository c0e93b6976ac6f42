package dev.schemagate.operator.status;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Outcome;
import dev.schemagate.redact.Redactor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prometheus metrics (every label value through schemagate's redaction; none holds anything a
 * Secret holds: outcomes, directions and reasons are fixed words, namespace and name are object
 * names): {@code schemagate_runs_total{outcome,direction,reason}}, {@code
 * schemagate_run_duration_seconds}, {@code schemagate_rollout_held_seconds}, {@code
 * schemagate_drift_checks_total{outcome}} and {@code
 * schemagate_last_success_timestamp_seconds{namespace,name}}.
 */
@ApplicationScoped
public class MigrationMetrics {
  private final MeterRegistry registry;
  private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();

  public MigrationMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Counts what a reconcile of {@code dbm}, made at {@code now}, measured. */
  public void record(DatabaseMigration dbm, Measurements measured, Instant now) {
    for (Measurements.FinishedRun run : measured.finishedRuns()) {
      runFinished(dbm, run.direction(), run.outcome(), run.reason(), run.took(), now);
    }
    measured.rolloutsHeld().forEach(this::rolloutReleased);
    measured.podsWaited().forEach(this::podReleased);
    measured.driftChecks().forEach(this::driftChecked);
  }

  private void driftChecked(String outcome) {
    Counter.builder("schemagate.drift.checks")
        .description("Drift checks by outcome (NoDrift, Drifted, Skipped, Failed)")
        .tag("outcome", Redactor.redact(outcome))
        .register(registry)
        .increment();
  }

  private void runFinished(
      DatabaseMigration dbm,
      Direction direction,
      Outcome outcome,
      String reason,
      Duration duration,
      Instant finishedAt) {
    Counter.builder("schemagate.runs")
        .description("Migration runs by outcome and direction")
        .tag("outcome", outcome.name())
        .tag("direction", direction.word())
        .tag("reason", Redactor.redact(reason))
        .register(registry)
        .increment();
    Timer.builder("schemagate.run.duration")
        .description("Duration of migration runs, from Job creation to result")
        .tag("outcome", outcome.name())
        .tag("direction", direction.word())
        .register(registry)
        .record(duration.isNegative() ? Duration.ZERO : duration);
    if (outcome == Outcome.Succeeded) {
      String ns = dbm.getMetadata().getNamespace();
      String name = dbm.getMetadata().getName();
      lastSuccess
          .computeIfAbsent(
              ns + "/" + name,
              key -> {
                AtomicLong value = new AtomicLong();
                Gauge.builder("schemagate.last.success.timestamp.seconds", value, AtomicLong::get)
                    .description(
                        "When the last successful migration run of a DatabaseMigration finished")
                    .tag("namespace", Redactor.redact(ns))
                    .tag("name", Redactor.redact(name))
                    .register(registry);
                return value;
              })
          .set(finishedAt.getEpochSecond());
    }
  }

  private void rolloutReleased(Duration held) {
    Timer.builder("schemagate.rollout.held")
        .description("How long gated Deployments were held paused")
        .register(registry)
        .record(held.isNegative() ? Duration.ZERO : held);
  }

  private void podReleased(Duration waited) {
    Timer.builder("schemagate.pod.gate.wait")
        .description("How long pods waited at the scheduling gate, from creation to release")
        .register(registry)
        .record(waited.isNegative() ? Duration.ZERO : waited);
  }

  public void forget(DatabaseMigration dbm) {
    AtomicLong removed =
        lastSuccess.remove(dbm.getMetadata().getNamespace() + "/" + dbm.getMetadata().getName());
    if (removed != null) {
      registry
          .find("schemagate.last.success.timestamp.seconds")
          .tag("namespace", dbm.getMetadata().getNamespace())
          .tag("name", dbm.getMetadata().getName())
          .meters()
          .forEach(registry::remove);
    }
  }
}
