package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.MissingMigration;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.kube.Caches;
import dev.schemagate.operator.kube.ClusterWriter;
import dev.schemagate.operator.kube.EventRecorder;
import dev.schemagate.operator.kube.MigrationStore;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.reconcile.Deletion;
import dev.schemagate.operator.reconcile.Pipeline;
import dev.schemagate.operator.reconcile.ReconcileState;
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
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Takes a DatabaseMigration from "new target" to "database at target, app released". Level
 * triggered: each step of the {@link Pipeline} reads the informer caches and the state the steps
 * before it left, and decides only what is missing; the writes are made in one place, the cluster's
 * first, then the status.
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
    // changed) is picked up at the latest this long after. It reads the caches, so it cannot
    // recover an event a watch lost: an open Job is read from the API server instead, on a look
    // of its own (Caches.catchUp). A reconcile
    // with nothing to do reads only caches and writes nothing, but it costs CPU: every 5 minutes,
    // many resources at rest kept the leader measurably busy; once an hour they do not
    // (bench/README.md, "Idle").
    maxReconciliationInterval = @MaxReconciliationInterval(interval = 1, timeUnit = TimeUnit.HOURS))
public class DatabaseMigrationReconciler
    implements Reconciler<DatabaseMigration>, Cleaner<DatabaseMigration> {
  public static final String NAME = "databasemigration";
  public static final String FINALIZER = DatabaseMigration.GROUP + "/finalizer";
  private static final Logger LOG = Logger.getLogger(DatabaseMigrationReconciler.class);

  private final KubernetesClient client;
  private final Clock clock;
  private final EventRecorder events;
  private final MigrationMetrics metrics;
  private final Pipeline pipeline;
  private final JobDefaults jobDefaults;
  private final MissingMigration missingMigration;
  private Caches caches;
  private ClusterWriter writer;

  public DatabaseMigrationReconciler(
      KubernetesClient client,
      Settings settings,
      Clock clock,
      EventRecorder events,
      MigrationMetrics metrics) {
    this.client = client;
    this.clock = clock;
    this.events = events;
    this.metrics = metrics;
    MigrationPolicy policy = policy(settings);
    this.jobDefaults = jobDefaults(settings);
    this.missingMigration = settings.gateMissingMigration();
    this.pipeline = new Pipeline(policy, jobDefaults, settings.gateMode());
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
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
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
            settings.defaultJobTmpSizeLimit().orElse(null))
        .withAlembicKit(settings.alembicKitImage().orElse(null));
  }

  @Override
  public List<EventSource<?, DatabaseMigration>> prepareEventSources(
      EventSourceContext<DatabaseMigration> context) {
    caches = new Caches(context, events, metrics, missingMigration);
    writer = new ClusterWriter(client, caches, events);
    return caches.eventSources();
  }

  @Override
  public UpdateControl<DatabaseMigration> reconcile(
      DatabaseMigration dbm, Context<DatabaseMigration> context) {
    caches.migrationExists(dbm);
    // an open Job whose end the watch may have missed is read from the API server first
    Optional<Duration> catchUp = caches.catchUp(dbm, clock.instant());
    ReconcileState state = ReconcileState.begin(dbm, caches, clock.instant(), jobDefaults);
    pipeline.decide(state);
    state.written(writer.write(state)); // Jobs, Deployments, pods: what was refused comes back
    pipeline.conclude(state);
    writer.record(state, context); // the status, if it changed; the Events; finished Jobs
    metrics.record(dbm, state.measurements(), state.now());
    UpdateControl<DatabaseMigration> control = UpdateControl.noUpdate();
    sooner(state.lookAgainAfter(), catchUp)
        .ifPresent(after -> control.rescheduleAfter(after.toMillis()));
    return control;
  }

  /** The sooner of two looks asked for, if any. */
  private static Optional<Duration> sooner(Optional<Duration> a, Optional<Duration> b) {
    return a.isEmpty() || (b.isPresent() && b.get().compareTo(a.get()) < 0) ? b : a;
  }

  /**
   * Deletion waits for a run in flight to end (a migration is never stopped mid-way, and the app is
   * not released onto a half-migrated schema), then resumes the Deployments this resource holds.
   */
  @Override
  public DeleteControl cleanup(DatabaseMigration dbm, Context<DatabaseMigration> context) {
    Optional<Duration> catchUp = caches.catchUp(dbm, clock.instant());
    ReconcileState state = ReconcileState.begin(dbm, caches, clock.instant(), jobDefaults);
    boolean mayGo = Deletion.apply(state);
    writer.write(state);
    writer.record(state, context);
    if (!mayGo) {
      // the Job's and its pod's events bring the resource back here, and the catch-up's look
      // if the watch missed the Job's end
      DeleteControl wait = DeleteControl.noFinalizerRemoval();
      return catchUp.map(after -> wait.rescheduleAfter(after.toMillis())).orElse(wait);
    }
    List<String> held = heldOnTheServer(dbm);
    if (!held.isEmpty()) {
      // a hold the cache has not seen yet (or a release refused): once the resource is gone,
      // nothing would ever resume these; come back until the API server shows them released
      LOG.infof(
          "DatabaseMigration %s/%s still holds %s: deletion waits for their release",
          dbm.getMetadata().getNamespace(), dbm.getMetadata().getName(), String.join(", ", held));
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(1, TimeUnit.SECONDS);
    }
    metrics.forget(dbm);
    caches.forget(dbm);
    return DeleteControl.defaultDelete();
  }

  /**
   * The Deployments the resource gates or held that the API server (not the cache, which may lag
   * behind the operator's own writes) still shows held by it.
   */
  private List<String> heldOnTheServer(DatabaseMigration dbm) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>(RolloutGate.gatedNames(dbm));
    if (dbm.getStatus() != null) {
      names.addAll(dbm.getStatus().getHeldDeployments());
    }
    String ns = dbm.getMetadata().getNamespace();
    return names.stream()
        .filter(Names::isValidObjectName)
        .filter(
            name -> {
              var deployment = client.apps().deployments().inNamespace(ns).withName(name).get();
              return deployment != null
                  && HeldBy.holders(deployment).contains(dbm.getMetadata().getName());
            })
        .toList();
  }
}
