package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.MissingMigration;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.reconcile.ClusterView;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.status.MigrationMetrics;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.FieldSelector;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * The informers the reconciler reads from, each mapped back to its DatabaseMigration: Jobs and
 * their pods by the annotation the operator puts on them, the Job controller's FailedCreate Events
 * (a pod the API server refused: quota, LimitRange, PodSecurity) by the Job they are about,
 * Deployments by the gate lists of the DatabaseMigrations (an index on the primary cache) and by
 * their held-by annotation, and the pods of apps that name a DatabaseMigration by their label (only
 * those: a label selector). Jobs, pods and Events are selected, so only the operator's own and the
 * gated apps' are cached; of the operator's Jobs and pods only what the steps read is kept ({@link
 * TrimmedStore}: not the pod template it wrote). Every Deployment of the watched namespaces is seen
 * (a DatabaseMigration may name one at any time), but it is read as a {@link GateDeployment} (its
 * pod template, status and managed fields skipped in the parser) and only what the gate reads of it
 * is kept ({@link DeploymentStore}).
 */
public final class Caches implements ClusterView {
  private static final Logger LOG = Logger.getLogger(Caches.class);
  static final String GATED_INDEX = "gated-deployments";

  /**
   * Objects asked for per request when an informer (re)lists, by every informer of the operator
   * (its DatabaseMigrations' too): a list comes in pages of this many, each kept (trimmed) before
   * the next is read. Unpaged, one answer held every Job, pod or DatabaseMigration of the cluster
   * in full, and with thousands of them on the real API server the operator ran out of heap reading
   * its Job list, at every restart; pages of this many commit less heap than larger ones
   * (bench/README.md, issue 15, third round). (fabric8 7.4 lists from the API server's watch cache,
   * {@code resourceVersion=0}, only when an informer has no limit.)
   */
  public static final long LIST_PAGE = 100;

  private final InformerEventSource<Job, DatabaseMigration> jobs;
  private final InformerEventSource<Pod, DatabaseMigration> pods;
  private final InformerEventSource<GateDeployment, DatabaseMigration> deployments;
  private final InformerEventSource<Pod, DatabaseMigration> appPods;
  private final InformerEventSource<Event, DatabaseMigration> failedCreates;
  private final MissingMigrations missing;
  private final KubernetesClient client;
  private final JobCatchUp catchUp = new JobCatchUp();

  /**
   * @param missing what admission does with a pod that names a DatabaseMigration that does not
   *     exist: such pods are told as Events on their Deployment, and counted
   */
  public Caches(
      EventSourceContext<DatabaseMigration> context,
      EventRecorder events,
      MigrationMetrics metrics,
      MissingMigration missing) {
    this.client = context.getClient();
    this.missing =
        new MissingMigrations(
            (ns, name) -> context.getPrimaryCache().get(new ResourceID(name, ns)).isPresent(),
            this::cached,
            // the pod may come before its Deployment reaches the cache: then it is read once
            (ns, name) -> {
              Deployment cached = deployment(ns, name);
              if (cached != null) {
                return cached;
              }
              try {
                return context
                    .getClient()
                    .apps()
                    .deployments()
                    .inNamespace(ns)
                    .withName(name)
                    .get();
              } catch (KubernetesClientException e) {
                return null; // told on the pod instead
              }
            },
            events,
            metrics,
            missing);
    context
        .getPrimaryCache()
        .addIndexer(
            GATED_INDEX,
            dbm ->
                RolloutGate.gatedNames(dbm).stream()
                    .map(name -> dbm.getMetadata().getNamespace() + "/" + name)
                    .toList());
    jobs =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Job.class, DatabaseMigration.class)
                .withName("jobs")
                .withInformerListLimit(LIST_PAGE)
                .withLabelSelector(RunCodec.MANAGED_SELECTOR)
                .withSecondaryToPrimaryMapper(Caches::byMigrationAnnotation)
                .withItemStore(TrimmedStore.jobs())
                .build(),
            context);
    pods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, DatabaseMigration.class)
                .withName("pods")
                .withInformerListLimit(LIST_PAGE)
                .withLabelSelector(RunCodec.MANAGED_SELECTOR)
                .withSecondaryToPrimaryMapper(Caches::byMigrationAnnotation)
                .withItemStore(TrimmedStore.pods())
                .build(),
            context);
    appPods =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, DatabaseMigration.class)
                .withName("app-pods")
                .withInformerListLimit(LIST_PAGE)
                .withLabelSelector(PodRequirement.LABEL)
                .withSecondaryToPrimaryMapper(this::byMigrationLabel)
                .build(),
            context);
    failedCreates =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Event.class, DatabaseMigration.class)
                .withName("failed-creates")
                .withInformerListLimit(LIST_PAGE)
                .withFieldSelector(
                    new FieldSelector(
                        new FieldSelector.Field("involvedObject.kind", "Job"),
                        new FieldSelector.Field("reason", RunObserver.FAILED_CREATE)))
                .withSecondaryToPrimaryMapper(this::byJob)
                .build(),
            context);
    deployments =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(GateDeployment.class, DatabaseMigration.class)
                .withName("deployments")
                .withSecondaryToPrimaryMapper(deployment -> gatingMigrations(context, deployment))
                .withInformerListLimit(LIST_PAGE)
                // of every Deployment only what the gate reads
                .withItemStore(new DeploymentStore())
                .build(),
            context);
  }

  public List<EventSource<?, DatabaseMigration>> eventSources() {
    return List.of(jobs, pods, failedCreates, deployments, appPods);
  }

  @Override
  public Job job(String namespace, String name) {
    return jobs.get(new ResourceID(name, namespace)).orElse(null);
  }

  /**
   * Each as {@link #job} reads it: a write of the operator's, or a Job read from the API server
   * ({@link #catchUp}), the watch has not brought yet, before the informer's copy.
   */
  @Override
  public List<Job> jobs(DatabaseMigration dbm) {
    String name = dbm.getMetadata().getName();
    return jobs.list(dbm.getMetadata().getNamespace(), j -> name.equals(RunCodec.migration(j)))
        .map(j -> jobs.get(ResourceID.fromResource(j)).orElse(j))
        .toList();
  }

  /**
   * The open Jobs of a DatabaseMigration that are due to be read from the API server ({@link
   * JobCatchUp}: a watch that missed a Job's end), read, and handed to the Job informer as the
   * operator's own writes are, so that the reconcile that follows reads what the API server has.
   *
   * @return when the reconcile should look again, while a Job of the resource is open
   */
  public Optional<Duration> catchUp(DatabaseMigration dbm, Instant now) {
    return catchUp.due(
        ResourceID.fromResource(dbm),
        jobs(dbm).stream().filter(j -> !RunObserver.finished(j)).toList(),
        this::podsEnded,
        this::readFromServer,
        now);
  }

  /** The resource is gone: none of its Jobs is read again. */
  public void forget(DatabaseMigration dbm) {
    catchUp.forget(ResourceID.fromResource(dbm));
  }

  /** Whether the Job has pods (those it controls) in the cache, and every one of them has ended. */
  private boolean podsEnded(Job job) {
    String uid = job.getMetadata().getUid();
    List<Pod> own =
        pods.list(job.getMetadata().getNamespace(), p -> uid.equals(RunCodec.controllerUid(p)))
            .toList();
    return !own.isEmpty()
        && own.stream()
            .map(p -> p.getStatus() == null ? null : p.getStatus().getPhase())
            .allMatch(phase -> "Succeeded".equals(phase) || "Failed".equals(phase));
  }

  /**
   * The Job as the API server has it, handed to the informer when it is not the version the cache
   * holds; whether it has ended there. Not found, or not read: not ended (read again later).
   */
  private boolean readFromServer(Job cached) {
    String ns = cached.getMetadata().getNamespace();
    String name = cached.getMetadata().getName();
    Job live;
    try {
      live = client.batch().v1().jobs().inNamespace(ns).withName(name).get();
    } catch (KubernetesClientException e) {
      LOG.debugf("Job %s/%s not read from the API server: %s", ns, name, e.getMessage());
      return false;
    }
    if (live == null
        || !cached.getMetadata().getUid().equals(live.getMetadata().getUid())
        || live.getMetadata()
            .getResourceVersion()
            .equals(cached.getMetadata().getResourceVersion())) {
      return false;
    }
    boolean ended = RunObserver.finished(live);
    if (ended) {
      LOG.infof(
          "Job %s/%s has ended (resourceVersion %s), which its watch has not told (the cache"
              + " holds %s): read from the API server",
          ns,
          name,
          live.getMetadata().getResourceVersion(),
          cached.getMetadata().getResourceVersion());
    }
    written(jobs, cached, TrimmedStore.job(live));
    return ended;
  }

  @Override
  public Collection<Pod> pods(String namespace, String runId) {
    return pods.list(namespace, p -> runId.equals(RunCodec.runId(p))).toList();
  }

  @Override
  public Collection<Event> failedCreates(Job job) {
    String uid = job.getMetadata().getUid();
    return failedCreates
        .list(
            job.getMetadata().getNamespace(),
            e ->
                e.getInvolvedObject() != null
                    && uid != null
                    && uid.equals(e.getInvolvedObject().getUid())
                    && RunObserver.FAILED_CREATE.equals(e.getReason()))
        .toList();
  }

  @Override
  public Deployment deployment(String namespace, String name) {
    return deployments.get(new ResourceID(name, namespace)).orElse(null);
  }

  @Override
  public List<Pod> appPods(String namespace, String migration) {
    return appPods.list(namespace, p -> migration.equals(PodRequirement.migration(p))).toList();
  }

  void jobCreated(Job job) {
    Job kept = TrimmedStore.job(job);
    jobs.handleRecentResourceCreate(ResourceID.fromResource(kept), kept);
  }

  /** A Job as a write of ours left it, trimmed as its store keeps it (see {@link #written}). */
  void jobPatched(Job before, Job after) {
    written(jobs, before, TrimmedStore.job(after));
  }

  /** A Deployment as a write of ours left it, trimmed as its store keeps it. */
  void deploymentPatched(Deployment before, Deployment after) {
    written(deployments, DeploymentStore.trim(before), DeploymentStore.trim(after));
  }

  /** Whether an app's pod is (still) in the cache. */
  private boolean cached(Pod pod) {
    return appPods.get(ResourceID.fromResource(pod)).isPresent();
  }

  /** A DatabaseMigration exists: the pods that name it no longer name a missing one. */
  public void migrationExists(DatabaseMigration dbm) {
    missing.exists(dbm.getMetadata().getNamespace(), dbm.getMetadata().getName());
  }

  /**
   * The DatabaseMigration an app's pod names; a pod that names one that does not exist is told
   * ({@link MissingMigrations}).
   */
  private Set<ResourceID> byMigrationLabel(Pod pod) {
    missing.seen(pod);
    String name = PodRequirement.migration(pod);
    return name == null || name.isBlank()
        ? Set.of()
        : Set.of(new ResourceID(name, pod.getMetadata().getNamespace()));
  }

  /** An app's pod as a write of ours left it. */
  void appPodPatched(Pod before, Pod after) {
    written(appPods, before, after);
  }

  /**
   * Hands a write of ours ({@code after}) to the informer it concerns, with the object it was
   * written over ({@code before}, read from that informer): the next reconcile sees it even before
   * the watch does. The SDK keeps {@code after} beside the informer's copy only while the informer
   * still holds {@code before}'s version, and drops it when the watch brings the write. Handed
   * {@code after} as its own previous version, it kept it exactly when the watch had come first,
   * and then for good: a finished run's Job never changes again (bench/README.md, issue 15, fourth
   * round).
   */
  private static <R extends HasMetadata> void written(
      InformerEventSource<R, DatabaseMigration> source, R before, R after) {
    source.handleRecentResourceUpdate(ResourceID.fromResource(after), after, before);
  }

  private static Set<ResourceID> byMigrationAnnotation(HasMetadata resource) {
    String name = RunCodec.migration(resource);
    return name == null
        ? Set.of()
        : Set.of(new ResourceID(name, resource.getMetadata().getNamespace()));
  }

  private Set<ResourceID> byJob(Event event) {
    if (event.getInvolvedObject() == null || event.getInvolvedObject().getName() == null) {
      return Set.of();
    }
    String ns = event.getMetadata().getNamespace();
    return jobs.get(new ResourceID(event.getInvolvedObject().getName(), ns))
        .map(Caches::byMigrationAnnotation)
        .orElse(Set.of());
  }

  private static Set<ResourceID> gatingMigrations(
      EventSourceContext<DatabaseMigration> context, Deployment deployment) {
    String ns = deployment.getMetadata().getNamespace();
    Set<ResourceID> ids = new HashSet<>();
    for (DatabaseMigration dbm :
        context
            .getPrimaryCache()
            .byIndex(GATED_INDEX, ns + "/" + deployment.getMetadata().getName())) {
      ids.add(ResourceID.fromResource(dbm));
    }
    for (String holder : HeldBy.holders(deployment)) {
      ids.add(new ResourceID(holder, ns));
    }
    return ids;
  }
}
