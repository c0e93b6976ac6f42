package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.kube.Caches;
import dev.schemagate.operator.kube.ClusterWriter;
import dev.schemagate.operator.kube.EventRecorder;
import dev.schemagate.operator.kube.MigrationStore;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.reconcile.CheckDrift;
import dev.schemagate.operator.reconcile.ComposeStatus;
import dev.schemagate.operator.reconcile.Deletion;
import dev.schemagate.operator.reconcile.GatePods;
import dev.schemagate.operator.reconcile.GateRollout;
import dev.schemagate.operator.reconcile.ObserveRun;
import dev.schemagate.operator.reconcile.PlanRun;
import dev.schemagate.operator.reconcile.PruneJobs;
import dev.schemagate.operator.reconcile.ReconcileState;
import dev.schemagate.operator.reconcile.RecordRun;
import dev.schemagate.operator.reconcile.ReviewPlan;
import dev.schemagate.operator.reconcile.StartRun;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.status.MigrationMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    generationAwareEventProcessing = false,
    // listed in pages, as every informer of the operator (Caches.LIST_PAGE), and cached without
    // the managed fields no step reads (MigrationStore)
    informer = @Informer(informerListLimit = Caches.LIST_PAGE, itemStore = MigrationStore.class),
    // A safety net, not a clock the flows rely on: the informers resume their watches and relist
    // after an outage, but a change no watch reports (a ResourceQuota lifted, a namespace label
    // changed) or an event lost to a bug is picked up at the latest this long after. A reconcile
    // with nothing to do reads only caches and writes nothing, but costs about 2 ms of CPU: every
    // 5 minutes, 1,000 resources at rest kept the leader at 1.2% of a core (bench/README.md,
    // "Idle"); once an hour it is 0.06%.
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 1, timeUnit = TimeUnit.HOURS))
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
    // which Java runs, and with which start-up archive: the image carries its own runtime
    LOG.infof(
        "Java %s (%s), %s",
        Runtime.version(),
        System.getProperty("java.vm.vendor"),
        java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("-XX:AOTCache=") || a.startsWith("-XX:SharedArchiveFile="))
            .findFirst()
            .orElse("no start-up archive"));
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
    CheckDrift.apply(
        state, policy, jobDefaults); // spec.drift: the check Job, and a run that waits for it
    ReviewPlan.apply(state, jobDefaults); // approval: Manual: the plan, and the run waits for it
    GateRollout.apply(
        state, settings.gateMode()); // hold what the gate holds until the database is at the target
    GatePods.apply( // pods whose revision is in place leave the scheduling gate
        state, settings.gateMode(), settings.defaultJobDeadlineSeconds());
    StartRun.apply(state, jobDefaults); // the decided run: its Job
    ComposeStatus.apply(state); // phase and conditions
    PruneJobs.apply(state); // finished Jobs that no history keeps go; the kept ones get an owner
    writer.write(state, context); // the writes, in order; the status last, if it changed
    metrics.record(dbm, state.measurements(), state.now());
    UpdateControl<DatabaseMigration> control = UpdateControl.noUpdate();
    state.lookAgainAfter().ifPresent(after -> control.rescheduleAfter(after.toMillis()));
    return control;
  }

  /**
   * Deletion waits for a run in flight to end (a migration is never stopped mid-way, and the app is
   * not released onto a half-migrated schema), then resumes the Deployments this resource holds.
   */
  @Override
  public DeleteControl cleanup(DatabaseMigration dbm, Context<DatabaseMigration> context) {
    ReconcileState state = ReconcileState.begin(dbm, caches, clock.instant());
    boolean mayGo = Deletion.apply(state);
    writer.write(state, context);
    if (!mayGo) {
      // the Job's and its pod's events bring the resource back here
      return DeleteControl.noFinalizerRemoval();
    }
    metrics.forget(dbm);
    return DeleteControl.defaultDelete();
  }
}
