package dev.schemagate.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Run;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.kube.Caches;
import dev.schemagate.operator.kube.EventRecorder;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.plan.RunPlanner;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunRecorder;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.MigrationMetrics;
import dev.schemagate.operator.status.ReconcileEvents;
import dev.schemagate.operator.status.StatusComposer;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Takes a DatabaseMigration from "new target" to "database at target, app released": follow the
 * run under way (or adopt one), decide, gate, start, record. Level-triggered: every step reads the
 * informer caches and does only what is missing.
 */
@ControllerConfiguration(
    name = DatabaseMigrationReconciler.NAME,
    finalizerName = DatabaseMigrationReconciler.FINALIZER,
    // the retry annotation is metadata: it changes no generation
    generationAwareEventProcessing = false)
public class DatabaseMigrationReconciler implements Reconciler<DatabaseMigration>, Cleaner<DatabaseMigration> {
  public static final String NAME = "databasemigration";
  public static final String FINALIZER = DatabaseMigration.GROUP + "/finalizer";
  private static final Logger LOG = Logger.getLogger(DatabaseMigrationReconciler.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_PASSES = 3;

  private final KubernetesClient client;
  private final Settings settings;
  private final Clock clock;
  private final EventRecorder events;
  private final MigrationMetrics metrics;
  private Caches caches;

  public DatabaseMigrationReconciler(
      KubernetesClient client, Settings settings, Clock clock, EventRecorder events, MigrationMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.events = events;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, DatabaseMigration>> prepareEventSources(EventSourceContext<DatabaseMigration> context) {
    caches = new Caches(context);
    return caches.eventSources();
  }

  @Override
  public UpdateControl<DatabaseMigration> reconcile(DatabaseMigration dbm, Context<DatabaseMigration> context) {
    Instant now = clock.instant();
    long generation = Objects.requireNonNullElse(dbm.getMetadata().getGeneration(), 0L);
    DatabaseMigrationStatus status = copy(dbm.getStatus());
    // the informer's object is never changed: the reconcile works on its own copy
    DatabaseMigrationStatus before = dbm.getStatus() == null ? new DatabaseMigrationStatus() : dbm.getStatus();
    String ns = dbm.getMetadata().getNamespace();
    Tool tool = dbm.getSpec().getTool();
    RolloutGate gate = new RolloutGate(client, caches::deploymentPatched);
    ReconcileEvents told = new ReconcileEvents();
    List<String> pausedByOthers = List.of();

    for (int pass = 0; pass < MAX_PASSES; pass++) {
      Run active = status.getActiveRun() != null ? status.getActiveRun() : adoptOrphan(dbm, status, told);
      if (active != null) {
        status.setActiveRun(active);
        RunState state = RunObserver.observe(caches.job(ns, active.getJob()), caches.pods(ns, active.getId()), tool);
        if (state instanceof RunState.Blocked && !Objects.equals(active.getGeneration(), generation)) {
          supersede(dbm, status, active, state, now);
          continue;
        }
        if (state instanceof RunState.Succeeded || state instanceof RunState.Failed) {
          finish(dbm, status, active, state, now, told);
          continue;
        }
        GateStep held = holdGate(dbm, status, gate, told);
        pausedByOthers = held.pausedByOthers();
        StatusComposer.running(status, active, state, generation, now);
        emitStalledTransition(dbm, before, status);
        break;
      }

      Decision decision = RunPlanner.decide(withStatus(dbm, status));
      boolean databaseAtTarget =
          decision instanceof Decision.UpToDate
              || (decision instanceof Decision.Suspended s && !s.runNeeded())
              || (decision instanceof Decision.Refused r && !r.runNeeded());
      if (databaseAtTarget) {
        releaseGate(dbm, status, gate, now, told);
      } else {
        pausedByOthers = holdGate(dbm, status, gate, told).pausedByOthers();
      }
      if (decision instanceof Decision.Start start) {
        status.setActiveRun(startRun(dbm, start.run(), now, told));
        continue;
      }
      StatusComposer.idle(status, decision, generation, now);
      emitStalledTransition(dbm, before, status);
      break;
    }
    StatusComposer.rollout(status, pausedByOthers, generation, now);
    told.emit(dbm, events, dbm.getSpec().getTargetRevision(), status.getCurrentRevision());
    deleteUnrecordedFinishedJobs(dbm, status);
    writeStatus(dbm, before, status, context);
    return UpdateControl.noUpdate();
  }

  @Override
  public DeleteControl cleanup(DatabaseMigration dbm, Context<DatabaseMigration> context) {
    RolloutGate gate = new RolloutGate(client, caches::deploymentPatched);
    Set<String> names = new LinkedHashSet<>(RolloutGate.gatedNames(dbm));
    if (dbm.getStatus() != null) {
      names.addAll(dbm.getStatus().getHeldDeployments());
    }
    List<String> released = gate.release(dbm, names, name -> caches.deployment(dbm.getMetadata().getNamespace(), name));
    if (!released.isEmpty()) {
      events.record(dbm, EventReason.RolloutReleased, "resumed " + String.join(", ", released) + ": the DatabaseMigration was deleted");
    }
    for (Job job : caches.jobs(dbm)) {
      if (!RunObserver.finished(job)) {
        // a migration must not be killed mid-way: the Job loses its owner and finishes on its own
        client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName())
            .edit(j -> {
              j.getMetadata().setOwnerReferences(null);
              j.getSpec().setTtlSecondsAfterFinished(86400);
              return j;
            });
      }
    }
    metrics.forget(dbm);
    return DeleteControl.defaultDelete();
  }

  private record GateStep(List<String> pausedByOthers) {}

  private GateStep holdGate(DatabaseMigration dbm, DatabaseMigrationStatus status, RolloutGate gate, ReconcileEvents told) {
    String ns = dbm.getMetadata().getNamespace();
    List<String> names = RolloutGate.gatedNames(dbm).stream().filter(Names::isValidObjectName).toList();
    RolloutGate.Outcome outcome = gate.hold(dbm, names, status.getHeldDeployments(), name -> caches.deployment(ns, name));
    status.setHeldDeployments(new ArrayList<>(outcome.held()));
    told.held(outcome.newlyHeld());
    told.released(outcome.released());
    return new GateStep(outcome.pausedByOthers());
  }

  private void releaseGate(DatabaseMigration dbm, DatabaseMigrationStatus status, RolloutGate gate, Instant now, ReconcileEvents told) {
    String ns = dbm.getMetadata().getNamespace();
    Set<String> names = new LinkedHashSet<>(status.getHeldDeployments());
    RolloutGate.gatedNames(dbm).stream().filter(Names::isValidObjectName).forEach(names::add);
    List<String> released = gate.release(dbm, names, name -> caches.deployment(ns, name));
    if (!released.isEmpty()) {
      told.released(released);
      Conditions.find(status.getConditions(), Conditions.ROLLOUT_HELD)
          .filter(c -> "True".equals(c.getStatus()))
          .ifPresent(c -> metrics.rolloutReleased(Duration.between(Time.parse(c.getLastTransitionTime()), now)));
    }
    status.setHeldDeployments(new ArrayList<>());
  }

  private Run startRun(DatabaseMigration dbm, RunInputs inputs, Instant now, ReconcileEvents told) {
    String ns = dbm.getMetadata().getNamespace();
    Job existing = caches.job(ns, inputs.jobName());
    if (existing == null) {
      Job desired = JobFactory.desired(dbm, inputs, settings.defaultJobDeadlineSeconds());
      try {
        Job created = client.batch().v1().jobs().inNamespace(ns).resource(desired).create();
        caches.jobCreated(created);
        told.started("started Job " + inputs.jobName() + ": " + inputs.direction().word() + " to " + inputs.targetRevision() + " with " + inputs.image());
        LOG.infof("%s/%s: started %s (%s to %s)", ns, dbm.getMetadata().getName(), inputs.jobName(), inputs.direction().word(), inputs.targetRevision());
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        told.adopted("adopted existing Job " + inputs.jobName());
      }
    } else {
      told.adopted("adopted existing Job " + inputs.jobName());
    }
    return RunCodec.run(inputs, existing != null && existing.getMetadata().getCreationTimestamp() != null
        ? existing.getMetadata().getCreationTimestamp() : Time.format(now));
  }

  /** A Job of ours that no status knows (the process stopped between creating it and recording it). */
  private Run adoptOrphan(DatabaseMigration dbm, DatabaseMigrationStatus status, ReconcileEvents told) {
    Set<String> recorded = new LinkedHashSet<>();
    status.getHistory().forEach(h -> recorded.add(h.getId()));
    Optional<Job> orphan = caches.jobs(dbm).stream()
        .filter(j -> !recorded.contains(RunCodec.runId(j)))
        .filter(j -> !RunObserver.finished(j))
        .max((a, b) -> String.valueOf(a.getMetadata().getCreationTimestamp()).compareTo(String.valueOf(b.getMetadata().getCreationTimestamp())));
    if (orphan.isEmpty()) {
      return null;
    }
    Job job = orphan.get();
    Run run = RunCodec.run(RunCodec.inputs(job), job.getMetadata().getCreationTimestamp());
    told.adopted("adopted running Job " + job.getMetadata().getName());
    return run;
  }

  private void finish(DatabaseMigration dbm, DatabaseMigrationStatus status, Run run, RunState state, Instant now, ReconcileEvents told) {
    int limit = dbm.getSpec().getHistoryLimit();
    HistoryEntry entry = RunRecorder.finish(status, run, state, limit, now);
    Instant started = Optional.ofNullable(Time.parse(run.getStartedAt())).orElse(now);
    metrics.runFinished(dbm, run.getDirection(), entry.getOutcome(), entry.getReason(), Duration.between(started, now), now);
    String ref = dbm.getMetadata().getNamespace() + "/" + dbm.getMetadata().getName();
    told.finished(entry, run.getJob());
    if (entry.getOutcome() == Outcome.Succeeded) {
      LOG.infof("%s: run %s succeeded: %s", ref, run.getId(), entry.getMessage());
    } else {
      LOG.infof("%s: run %s failed (%s): %s", ref, run.getId(), entry.getReason(), entry.getMessage());
    }
  }

  private void supersede(DatabaseMigration dbm, DatabaseMigrationStatus status, Run run, RunState state, Instant now) {
    client.batch().v1().jobs().inNamespace(dbm.getMetadata().getNamespace()).withName(run.getJob()).delete();
    int limit = dbm.getSpec().getHistoryLimit();
    HistoryEntry entry = RunRecorder.finish(status, run, state, limit, now);
    events.record(dbm, EventReason.RunSuperseded, "deleted Job " + run.getJob() + ", which never started: " + entry.getMessage());
  }

  /** Jobs of ours that finished but belong to no recorded or active run: cut from history. */
  private void deleteUnrecordedFinishedJobs(DatabaseMigration dbm, DatabaseMigrationStatus status) {
    Set<String> keep = new LinkedHashSet<>();
    status.getHistory().forEach(h -> keep.add(h.getJob()));
    if (status.getActiveRun() != null) {
      keep.add(status.getActiveRun().getJob());
    }
    for (Job job : caches.jobs(dbm)) {
      if (RunObserver.finished(job) && !keep.contains(job.getMetadata().getName()) && !status.getHistory().isEmpty()) {
        client.batch().v1().jobs().inNamespace(job.getMetadata().getNamespace()).withName(job.getMetadata().getName())
            .withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
      }
    }
  }

  private void emitStalledTransition(DatabaseMigration dbm, DatabaseMigrationStatus before, DatabaseMigrationStatus after) {
    var now = Conditions.find(after.getConditions(), Conditions.STALLED).filter(c -> "True".equals(c.getStatus()));
    if (now.isEmpty()) {
      return;
    }
    var previous = Conditions.find(before.getConditions(), Conditions.STALLED).filter(c -> "True".equals(c.getStatus()));
    boolean changed = previous.isEmpty() || !Objects.equals(previous.get().getReason(), now.get().getReason());
    EventReason reason = EventReason.forStalledReason(now.get().getReason());
    if (changed && reason != null) {
      events.record(dbm, reason, now.get().getMessage());
    }
  }

  private void writeStatus(DatabaseMigration dbm, DatabaseMigrationStatus before, DatabaseMigrationStatus after, Context<DatabaseMigration> context) {
    if (JSON.valueToTree(before).equals(JSON.valueToTree(after))) {
      return;
    }
    DatabaseMigration copy = withStatus(dbm, after);
    DatabaseMigration updated = client.resource(copy).updateStatus();
    context.eventSourceRetriever().getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(dbm), updated, dbm);
  }

  private static DatabaseMigration withStatus(DatabaseMigration dbm, DatabaseMigrationStatus status) {
    DatabaseMigration copy = new DatabaseMigration();
    copy.setMetadata(dbm.getMetadata());
    copy.setSpec(dbm.getSpec());
    copy.setStatus(status);
    return copy;
  }

  private static DatabaseMigrationStatus copy(DatabaseMigrationStatus status) {
    return status == null ? new DatabaseMigrationStatus() : JSON.convertValue(JSON.valueToTree(status), DatabaseMigrationStatus.class);
  }
}
