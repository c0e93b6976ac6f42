package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.kube.Caches;
import dev.schemagate.operator.kube.ClusterWriter;
import dev.schemagate.operator.kube.EventRecorder;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.reconcile.ComposeStatus;
import dev.schemagate.operator.reconcile.GateRollout;
import dev.schemagate.operator.reconcile.ObserveRun;
import dev.schemagate.operator.reconcile.PlanRun;
import dev.schemagate.operator.reconcile.PruneJobs;
import dev.schemagate.operator.reconcile.ReconcileState;
import dev.schemagate.operator.reconcile.RecordRun;
import dev.schemagate.operator.reconcile.StartRun;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.MigrationMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Takes a DatabaseMigration from "new target" to "database at target, app released". Level
 * triggered: each step reads the informer caches and the state the steps before it left, and
 * decides only what is missing; the writes are made at the end, in one place.
 */
@ControllerConfiguration(
    name = DatabaseMigrationReconciler.NAME,
    finalizerName = DatabaseMigrationReconciler.FINALIZER,
    // the retry annotation is metadata: it changes no generation
    generationAwareEventProcessing = false)
public class DatabaseMigrationReconciler
    implements Reconciler<DatabaseMigration>, Cleaner<DatabaseMigration> {
  public static final String NAME = "databasemigration";
  public static final String FINALIZER = DatabaseMigration.GROUP + "/finalizer";
  private static final Logger LOG = Logger.getLogger(DatabaseMigrationReconciler.class);

  private final KubernetesClient client;
  private final Settings settings;
  private final Clock clock;
  private final EventRecorder events;
  private final MigrationMetrics metrics;
  private final MigrationPolicy policy;
  private final JobDefaults jobDefaults;
  private Caches caches;
  private ClusterWriter writer;

  public DatabaseMigrationReconciler(
      KubernetesClient client,
      Settings settings,
      Clock clock,
      EventRecorder events,
      MigrationMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.clock = clock;
    this.events = events;
    this.metrics = metrics;
    this.policy = policy(settings);
    this.jobDefaults = jobDefaults(settings);
    LOG.infof(
        "policy: images matching %s%s; service accounts %s; custom commands %s",
        String.join(", ", policy.allowedImages()),
        policy.requireDigest() ? ", by digest only" : "",
        String.join(", ", policy.allowedServiceAccounts()),
        policy.allowCustomCommands() ? "allowed" : "not allowed");
  }

  /** The cluster admin's policy, from the settings (the chart's policy values). */
  static MigrationPolicy policy(Settings settings) {
    return new MigrationPolicy(
        settings.policyAllowedImages(),
        settings.policyRequireImageDigest(),
        settings.policyAllowedServiceAccounts(),
        settings.policyAllowCustomCommands());
  }

  /** The Job's defaults, from the settings (the chart's defaultJob* values). */
  static JobDefaults jobDefaults(Settings settings) {
    return JobDefaults.of(
        settings.defaultJobDeadlineSeconds(),
        settings.defaultJobCpuRequest().orElse(null),
        settings.defaultJobMemoryRequest().orElse(null),
        settings.defaultJobCpuLimit().orElse(null),
        settings.defaultJobMemoryLimit().orElse(null),
        settings.defaultJobTmpSizeLimit().orElse(null));
  }

  @Override
  public List<EventSource<?, DatabaseMigration>> prepareEventSources(
      EventSourceContext<DatabaseMigration> context) {
    caches = new Caches(context);
    writer = new ClusterWriter(client, caches, events);
    return caches.eventSources();
  }

  @Override
  public UpdateControl<DatabaseMigration> reconcile(
      DatabaseMigration dbm, Context<DatabaseMigration> context) {
    ReconcileState state = ReconcileState.begin(dbm, caches, clock.instant());
    ObserveRun.apply(state); // the run in status, or a running Job of ours no status records
    RecordRun.apply(state); // a run that ended goes into history
    PlanRun.apply(state, policy); // no run under way: is one needed, which direction, which image
    GateRollout.apply(state); // hold the gated Deployments until the database is at the target
    StartRun.apply(state, jobDefaults); // the decided run: its Job
    ComposeStatus.apply(state); // phase and conditions
    PruneJobs.apply(state); // finished Jobs that no history keeps
    writer.write(state, context); // the writes, in order; the status last, if it changed
    metrics.record(dbm, state.measurements(), state.now());
    return UpdateControl.noUpdate();
  }

  /** Resumes the Deployments this resource holds; a running Job is left to finish on its own. */
  @Override
  public DeleteControl cleanup(DatabaseMigration dbm, Context<DatabaseMigration> context) {
    String ns = dbm.getMetadata().getNamespace();
    Set<String> names = new LinkedHashSet<>(RolloutGate.gatedNames(dbm));
    if (dbm.getStatus() != null) {
      names.addAll(dbm.getStatus().getHeldDeployments());
    }
    RolloutGate.Released released =
        RolloutGate.release(
            dbm.getMetadata().getName(), names, name -> caches.deployment(ns, name));
    released.patches().forEach(writer::patch);
    if (!released.names().isEmpty()) {
      writer.record(
          dbm,
          EventReason.RolloutReleased,
          "resumed " + String.join(", ", released.names()) + ": the DatabaseMigration was deleted");
    }
    // a migration must not be killed mid-way: the Job loses its owner and finishes on its own
    caches.jobs(dbm).stream().filter(job -> !RunObserver.finished(job)).forEach(writer::orphan);
    metrics.forget(dbm);
    return DeleteControl.defaultDelete();
  }
}
