package dev.schemagate.operator.status;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;
import dev.schemagate.redact.Redactor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Prometheus metrics (every label value through schemagate's redaction; none holds anything a
 * Secret holds: outcomes, directions and reasons are fixed words, namespace and name are object
 * names). Events: {@code schemagate_runs_total{outcome,direction,reason}}, {@code
 * schemagate_run_duration_seconds}, {@code schemagate_rollout_held_seconds}, {@code
 * schemagate_pod_gate_wait_seconds} (histograms), {@code schemagate_drift_checks_total{outcome}}.
 * State, from the status each reconcile composes: {@code schemagate_migrations{phase}} (how many
 * are in each phase), and per DatabaseMigration, only while it is so (a handful of series, not one
 * per resource): {@code schemagate_migration_stalled{namespace,name,reason}}, {@code
 * schemagate_rollout_held_since_timestamp_seconds{namespace,name}}, {@code
 * schemagate_pods_at_gate{namespace,name}}, {@code
 * schemagate_drift_detected{namespace,name,acknowledged}}, {@code
 * schemagate_drift_check_consecutive_failures{namespace,name}}; and {@code
 * schemagate_last_success_timestamp_seconds{namespace,name}}; and, from admission, {@code
 * schemagate_missing_migration_pods{namespace,migration,gated}}. The alerts and the dashboard in
 * charts/schemagate/monitoring are made of these.
 */
@ApplicationScoped
@Startup
public class MigrationMetrics {
  /** Buckets of run durations (a Job's start to its result). */
  static final Duration[] RUN_BUCKETS = seconds(1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600);

  /** Buckets of how long an app was held. */
  static final Duration[] HELD_BUCKETS = seconds(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200);

  /** Buckets of how long a pod waited at the scheduling gate. */
  static final Duration[] GATE_WAIT_BUCKETS = {
    Duration.ofMillis(100),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(2),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10),
    Duration.ofSeconds(30),
    Duration.ofMinutes(1),
    Duration.ofMinutes(5),
    Duration.ofMinutes(15),
    Duration.ofHours(1)
  };

  private final MeterRegistry registry;
  private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
  private final Map<String, Phase> phases = new ConcurrentHashMap<>();
  private final Map<String, Instant> holds = new ConcurrentHashMap<>();
  private final PerMigration stalled;
  private final PerMigration heldSince;
  private final PerMigration podsAtGate;
  private final PerMigration drifted;
  private final PerMigration driftFailures;
  private final MultiGauge missingMigrationPods;

  public MigrationMetrics(MeterRegistry registry) {
    this.registry = registry;
    // a registry outlives an application restarted in the same process (tests, dev mode): the
    // gauges of an earlier instance would read its state, not this one's
    registry.find("schemagate.migrations").meters().forEach(registry::remove);
    for (Phase phase : Phase.values()) {
      Gauge.builder("schemagate.migrations", phases, p -> count(p, phase))
          .description("DatabaseMigrations by phase, as the leader last reconciled them")
          .tag("phase", phase.name())
          .strongReference(true)
          .register(registry);
    }
    stalled =
        new PerMigration(
            "schemagate.migration.stalled",
            "1 while a DatabaseMigration is Stalled (a failed run, or a Job that cannot start):"
                + " the reason says why");
    heldSince =
        new PerMigration(
            "schemagate.rollout.held.since.timestamp.seconds",
            "While a DatabaseMigration holds its app (Deployments paused, or pods at its"
                + " scheduling gate): since when");
    podsAtGate =
        new PerMigration(
            "schemagate.pods.at.gate",
            "Pods waiting at a DatabaseMigration's scheduling gate, while there are any");
    drifted =
        new PerMigration(
            "schemagate.drift.detected",
            "1 while the last drift check found the live schema other than the recorded one");
    driftFailures =
        new PerMigration(
            "schemagate.drift.check.consecutive.failures",
            "How many drift checks in a row have failed, while the last one did");
    missingMigrationPods =
        MultiGauge.builder("schemagate.missing.migration.pods")
            .description(
                "Pods that name (label schemagate.dev/migration) a DatabaseMigration that does not"
                    + " exist, by whether they wait at the scheduling gate")
            .register(registry);
    // The event series a dashboard or an alert reads with increase() or rate() are there at 0 from
    // the start: a series first scraped at 1 shows no increase, so the first failed run, the first
    // drift check and the first release would go unseen.
    for (Direction direction : Direction.values()) {
      runs(Outcome.Succeeded, direction, Reason.MigrationSucceeded.name());
      runs(Outcome.Failed, direction, Reason.MigrationFailed.name());
      for (Outcome outcome : Outcome.values()) {
        runDuration(outcome, direction);
      }
    }
    for (CheckOutcome outcome : CheckOutcome.values()) {
      driftChecks(outcome);
    }
    rolloutHeld();
    podGateWait();
  }

  private Counter runs(Outcome outcome, Direction direction, String reason) {
    return Counter.builder("schemagate.runs")
        .description("Migration runs by outcome and direction")
        .tag("outcome", outcome.name())
        .tag("direction", direction.word())
        .tag("reason", Redactor.redact(reason))
        .register(registry);
  }

  private Timer runDuration(Outcome outcome, Direction direction) {
    return Timer.builder("schemagate.run.duration")
        .description("Duration of migration runs, from Job creation to result")
        .tag("outcome", outcome.name())
        .tag("direction", direction.word())
        .serviceLevelObjectives(RUN_BUCKETS)
        .register(registry);
  }

  private Counter driftChecks(CheckOutcome outcome) {
    return Counter.builder("schemagate.drift.checks")
        .description("Drift checks by outcome (NoDrift, Drifted, Skipped, Failed)")
        .tag("outcome", outcome.name())
        .register(registry);
  }

  private Timer rolloutHeld() {
    return Timer.builder("schemagate.rollout.held")
        .description(
            "How long DatabaseMigrations held their apps (Deployments paused, or pods at the"
                + " scheduling gate), from the hold to its release")
        .serviceLevelObjectives(HELD_BUCKETS)
        .register(registry);
  }

  private Timer podGateWait() {
    return Timer.builder("schemagate.pod.gate.wait")
        .description("How long pods waited at the scheduling gate, from creation to release")
        .serviceLevelObjectives(GATE_WAIT_BUCKETS)
        .register(registry);
  }

  private static Duration[] seconds(long... values) {
    Duration[] durations = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      durations[i] = Duration.ofSeconds(values[i]);
    }
    return durations;
  }

  private static double count(Map<String, Phase> phases, Phase phase) {
    return phases.values().stream().filter(phase::equals).count();
  }

  /** Counts what a reconcile of {@code dbm}, made at {@code now}, measured. */
  public void record(DatabaseMigration dbm, Measurements measured, Instant now) {
    for (Measurements.FinishedRun run : measured.finishedRuns()) {
      runFinished(dbm, run.direction(), run.outcome(), run.reason(), run.took(), now);
    }
    measured.podsWaited().forEach(this::podReleased);
    measured.driftChecks().forEach(this::driftChecked);
    measured.state().ifPresent(state -> state(dbm, state, now));
  }

  /** The state series of one DatabaseMigration: set while it is so, removed when it is not. */
  private void state(DatabaseMigration dbm, MigrationState state, Instant now) {
    String ns = dbm.getMetadata().getNamespace();
    String name = dbm.getMetadata().getName();
    String key = ns + "/" + name;
    Tags id = Tags.of("namespace", Redactor.redact(ns), "name", Redactor.redact(name));
    if (state.phase() != null) {
      phases.put(key, state.phase());
    }
    if (state.stalledReason() != null) {
      stalled.set(key, id.and("reason", Redactor.redact(state.stalledReason())), 1);
    } else {
      stalled.clear(key);
    }
    // a hold ends when RolloutHeld goes False, whichever way it held (a paused Deployment, or pods
    // at the scheduling gate): how long it lasted is observed then, once
    Instant wasHeldSince =
        state.heldSince() != null ? holds.put(key, state.heldSince()) : holds.remove(key);
    if (state.heldSince() != null) {
      heldSince.set(key, id, state.heldSince().getEpochSecond());
    } else {
      heldSince.clear(key);
      if (wasHeldSince != null) {
        Duration held = Duration.between(wasHeldSince, now);
        rolloutHeld().record(held.isNegative() ? Duration.ZERO : held);
      }
    }
    if (state.podsAtGate() > 0) {
      podsAtGate.set(key, id, state.podsAtGate());
    } else {
      podsAtGate.clear(key);
    }
    if (state.driftReason() != null) {
      boolean acknowledged = Reason.DriftAcknowledged.name().equals(state.driftReason());
      drifted.set(key, id.and("acknowledged", Boolean.toString(acknowledged)), 1);
    } else {
      drifted.clear(key);
    }
    if (state.driftCheckFailures() > 0) {
      driftFailures.set(key, id, state.driftCheckFailures());
    } else {
      driftFailures.clear(key);
    }
  }

  private void driftChecked(CheckOutcome outcome) {
    driftChecks(outcome).increment();
  }

  private void runFinished(
      DatabaseMigration dbm,
      Direction direction,
      Outcome outcome,
      String reason,
      Duration duration,
      Instant finishedAt) {
    runs(outcome, direction, reason).increment();
    runDuration(outcome, direction).record(duration.isNegative() ? Duration.ZERO : duration);
    if (outcome == Outcome.Succeeded) {
      String ns = dbm.getMetadata().getNamespace();
      String name = dbm.getMetadata().getName();
      lastSuccess
          .computeIfAbsent(
              ns + "/" + name,
              key -> {
                AtomicLong value = new AtomicLong();
                registry
                    .find("schemagate.last.success.timestamp.seconds")
                    .tag("namespace", Redactor.redact(ns))
                    .tag("name", Redactor.redact(name))
                    .meters()
                    .forEach(registry::remove);
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

  private void podReleased(Duration waited) {
    podGateWait().record(waited.isNegative() ? Duration.ZERO : waited);
  }

  /**
   * The pods that name a DatabaseMigration that does not exist, by namespace, name and whether they
   * wait at the scheduling gate: schemagate_missing_migration_pods{namespace,migration,gated}. The
   * series of the given counts replace the previous ones (a name with no pod left has none).
   *
   * @param counts by "namespace/migration/gated"
   */
  public void missingMigrationPods(Map<List<String>, Integer> counts) {
    missingMigrationPods.register(
        counts.entrySet().stream()
            .map(
                e ->
                    MultiGauge.Row.of(
                        Tags.of(
                            "namespace", Redactor.redact(e.getKey().get(0)),
                            "migration", Redactor.redact(e.getKey().get(1)),
                            "gated", e.getKey().get(2)),
                        e.getValue()))
            .toList(),
        true);
  }

  /** A deleted DatabaseMigration: its series go. */
  public void forget(DatabaseMigration dbm) {
    String key = dbm.getMetadata().getNamespace() + "/" + dbm.getMetadata().getName();
    phases.remove(key);
    holds.remove(key);
    for (PerMigration family : List.of(stalled, heldSince, podsAtGate, drifted, driftFailures)) {
      family.clear(key);
    }
    AtomicLong removed = lastSuccess.remove(key);
    if (removed != null) {
      registry
          .find("schemagate.last.success.timestamp.seconds")
          .tag("namespace", dbm.getMetadata().getNamespace())
          .tag("name", dbm.getMetadata().getName())
          .meters()
          .forEach(registry::remove);
    }
  }

  /**
   * A gauge family with at most one series per DatabaseMigration, present only while there is
   * something to show: when its labels change (a new Stalled reason), the old series goes.
   */
  private final class PerMigration {
    private record Series(Tags tags, AtomicLong value, Meter.Id id) {}

    private final String name;
    private final String description;
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    PerMigration(String name, String description) {
      this.name = name;
      this.description = description;
    }

    void set(String key, Tags tags, long value) {
      series.compute(
          key,
          (k, old) -> {
            if (old != null && old.tags().equals(tags)) {
              old.value().set(value);
              return old;
            }
            if (old != null) {
              registry.remove(old.id());
            }
            // one an earlier instance left with these labels would not read this holder
            registry.find(name).tags(tags).gauges().forEach(registry::remove);
            AtomicLong holder = new AtomicLong(value);
            Gauge gauge =
                Gauge.builder(name, holder, AtomicLong::get)
                    .description(description)
                    .tags(tags)
                    .strongReference(true)
                    .register(registry);
            return new Series(tags, holder, gauge.getId());
          });
    }

    void clear(String key) {
      Series old = series.remove(key);
      if (old != null) {
        registry.remove(old.id());
      }
    }
  }
}
