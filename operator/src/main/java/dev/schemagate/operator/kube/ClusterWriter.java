package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.gate.PausePatch;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.reconcile.CheckDrift;
import dev.schemagate.operator.reconcile.ClusterChanges;
import dev.schemagate.operator.reconcile.ReconcileState;
import dev.schemagate.operator.reconcile.RejectRun;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.status.ReconcileEvents;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * The one place the operator writes to the cluster. A reconcile's writes go in this order: the Job
 * of a superseded run is deleted, the gated Deployments are paused or resumed (before any Job is
 * made), the run's Job is created (or a plan or drift check Job), the pods whose revision is in
 * place leave the scheduling gate, the status is written, once, only when it changed, then the
 * Events are recorded and finished Jobs get their owner reference or, when no history keeps them,
 * are deleted. The status comes before the Events and the Jobs' bookkeeping because it is what
 * users and tools wait for: on the real control plane those three writes put 80 ms between the
 * Deployment resumed and Ready (bench/ README.md). Each write is handed to the informer cache it
 * concerns, so the next reconcile reads its own writes. A Job the API server refuses is not an
 * error to retry blindly: the state is told ({@link RejectRun}) before the status and the Events
 * are written.
 */
public final class ClusterWriter {
  private static final Logger LOG = Logger.getLogger(ClusterWriter.class);

  /** At most this many gates are lifted at the same time. */
  private static final ExecutorService LIFTS =
      Executors.newFixedThreadPool(
          8,
          r -> {
            Thread t = new Thread(r, "gate-lift");
            t.setDaemon(true);
            return t;
          });

  /** The field manager of the operator's writes to gated Deployments and Jobs. */
  static final String FIELD_MANAGER = "schemagate";

  /** What the API server answers when it refuses an object for what it is, not for its load. */
  private static final Set<Integer> REFUSED = Set.of(400, 403, 422);

  private final KubernetesClient client;
  private final Caches caches;
  private final EventRecorder events;

  public ClusterWriter(KubernetesClient client, Caches caches, EventRecorder events) {
    this.client = client;
    this.caches = caches;
    this.events = events;
  }

  /** Makes the writes a reconcile decided. */
  public void write(ReconcileState state, Context<DatabaseMigration> context) {
    DatabaseMigration dbm = state.resource();
    ClusterChanges changes = state.changes();
    changes.supersededJobs().forEach(name -> deleteJob(dbm.getMetadata().getNamespace(), name));
    changes.gatePatches().forEach(this::patch);
    changes.newJob().ifPresent(newJob -> create(state, newJob));
    changes.planJob().ifPresent(job -> createPlanJob(state, job));
    changes.planConfigMap().ifPresent(this::writeConfigMap);
    changes.checkJob().ifPresent(job -> createCheckJob(state, job));
    liftAll(changes.gateLifts());
    if (state.statusChanged()) {
      writeStatus(state, context);
    }
    recordEvents(state);
    changes.jobsToOwn().forEach(job -> own(dbm, job));
    changes
        .finishedJobsToDelete()
        .forEach(job -> deleteJob(job.getMetadata().getNamespace(), job.getMetadata().getName()));
  }

  /** Pauses or resumes a gated Deployment. */
  public void patch(PausePatch patch) {
    Deployment d = patch.deployment();
    Deployment updated =
        client
            .apps()
            .deployments()
            .inNamespace(d.getMetadata().getNamespace())
            // the cached object, so that the client does not read it from the server first
            .resource(d)
            .patch(
                new PatchContext.Builder()
                    .withPatchType(patch.merge() ? PatchType.JSON_MERGE : PatchType.JSON)
                    .withFieldManager(FIELD_MANAGER)
                    .build(),
                patch.body());
    caches.deploymentPatched(d, updated);
  }

  /**
   * Lifts the gates of all the pods whose revision is in place at once: they wait for the same
   * event, and one after the other would add a round trip per pod to the last one's wait.
   */
  private void liftAll(List<ClusterChanges.GateLift> lifts) {
    if (lifts.size() <= 1) {
      lifts.forEach(this::lift);
      return;
    }
    List<CompletableFuture<Void>> running =
        lifts.stream().map(lift -> CompletableFuture.runAsync(() -> lift(lift), LIFTS)).toList();
    try {
      CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  /**
   * Lifts the scheduling gate from a pod: a JSON Patch that removes that gate and nothing else,
   * guarded by a test that it is still where the cached pod has it.
   */
  private void lift(ClusterChanges.GateLift lift) {
    Pod pod = lift.pod();
    String at = "/spec/schedulingGates/" + lift.index();
    String patch =
        "[{\"op\":\"test\",\"path\":\""
            + at
            + "/name\",\"value\":\""
            + PodRequirement.GATE
            + "\"},{\"op\":\"remove\",\"path\":\""
            + at
            + "\"}]";
    try {
      Pod updated =
          client
              .pods()
              .inNamespace(pod.getMetadata().getNamespace())
              .resource(pod)
              .patch(PatchContext.of(PatchType.JSON), patch);
      caches.appPodPatched(pod, updated);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /**
   * Deletes a Job with its pods (Background: a Job deleted without a propagation policy leaves its
   * pods behind); one that is gone already is fine.
   */
  private void deleteJob(String namespace, String name) {
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(namespace)
        .withName(name)
        .withPropagationPolicy(DeletionPropagation.BACKGROUND)
        .delete();
  }

  /** Creates the plan's ConfigMap, or replaces its data (one merge patch) when it exists. */
  private void writeConfigMap(ConfigMap configMap) {
    String ns = configMap.getMetadata().getNamespace();
    try {
      client.configMaps().inNamespace(ns).resource(configMap).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      String patch =
          client
              .getKubernetesSerialization()
              .asJson(
                  Map.of(
                      "metadata",
                      Map.of("ownerReferences", configMap.getMetadata().getOwnerReferences()),
                      "data",
                      configMap.getData()));
      client
          .configMaps()
          .inNamespace(ns)
          // the object in hand, so that the client does not read it from the server first (the
          // operator may not read ConfigMaps)
          .resource(configMap)
          .patch(
              new PatchContext.Builder()
                  .withPatchType(PatchType.JSON_MERGE)
                  .withFieldManager(FIELD_MANAGER)
                  .build(),
              patch);
    }
  }

  /**
   * Gives a finished run's Job the owner reference of its DatabaseMigration, and puts the result in
   * the cache: a reconcile that follows before the watch brings the change does not own it again.
   * The merge patch replaces the Job's whole list of owner references, so it is guarded by the
   * resourceVersion it was decided on: a Job changed since (a reference another writer added, or
   * one this operator already wrote while its cache was behind) is not written over; the API server
   * answers 409, and the reconcile that the change brings decides again on the new Job.
   */
  private void own(DatabaseMigration dbm, Job job) {
    Map<String, Object> metadata = new java.util.LinkedHashMap<>();
    metadata.put("ownerReferences", java.util.List.of(RunCodec.ownerReference(dbm)));
    if (job.getMetadata().getResourceVersion() != null) {
      metadata.put("resourceVersion", job.getMetadata().getResourceVersion());
    }
    String patch = client.getKubernetesSerialization().asJson(Map.of("metadata", metadata));
    try {
      Job owned =
          client
              .batch()
              .v1()
              .jobs()
              .inNamespace(job.getMetadata().getNamespace())
              // the Job in hand, so that the client does not read it from the server first
              .resource(job)
              .patch(
                  new PatchContext.Builder()
                      .withPatchType(PatchType.JSON_MERGE)
                      .withFieldManager(FIELD_MANAGER)
                      .build(),
                  patch);
      caches.jobPatched(job, owned);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404 && e.getCode() != 409) {
        throw e;
      }
    }
  }

  private void recordEvents(ReconcileState state) {
    DatabaseMigration dbm = state.resource();
    String target = dbm.getSpec().getTargetRevision();
    for (ReconcileEvents.Notice notice :
        state.events().notices(target, state.status().getCurrentRevision())) {
      events.record(dbm, notice.reason(), notice.message());
    }
  }

  /**
   * Writes the status with a PUT of the status subresource, then hands the result to the primary
   * cache: the status of a run is never recorded twice, even by a reconcile on a stale cache.
   */
  private void writeStatus(ReconcileState state, Context<DatabaseMigration> context) {
    DatabaseMigration dbm = state.resource();
    DatabaseMigration updated = client.resource(state.withStatus()).updateStatus();
    context
        .eventSourceRetriever()
        .getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(dbm), updated, dbm);
  }

  /** Whether the API server made a Job, had it already, or refused it. */
  private enum Created {
    CREATED,
    EXISTS,
    REFUSED
  }

  /** How a reconcile's state is told that the API server refused one of its Jobs. */
  private interface Refusal {
    void tell(ReconcileState state, String job, int code, String message);
  }

  /**
   * Creates a Job the reconcile decided and hands it to the cache. One of that name that exists
   * already (409) is that Job: the names are deterministic. A refusal for what the Job is (400,
   * 403, 422: a value, a ResourceQuota, an admission policy) is told to the state, not retried
   * blindly; any other error is thrown, for the SDK to retry.
   */
  private Created createJob(ReconcileState state, Job job, String what, Refusal refusal) {
    String ns = job.getMetadata().getNamespace();
    String name = job.getMetadata().getName();
    try {
      caches.jobCreated(client.batch().v1().jobs().inNamespace(ns).resource(job).create());
      return Created.CREATED;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return Created.EXISTS;
      }
      if (!REFUSED.contains(e.getCode())) {
        throw e;
      }
      String message =
          e.getStatus() != null && e.getStatus().getMessage() != null
              ? e.getStatus().getMessage()
              : e.getMessage();
      LOG.infof(
          "%s/%s: the API server refused %s %s (%d): %s",
          ns, state.name(), what, name, e.getCode(), message);
      refusal.tell(state, name, e.getCode(), message);
      return Created.REFUSED;
    }
  }

  /** Creates the run's Job; one that exists already is adopted, never doubled. */
  private void create(ReconcileState state, ClusterChanges.NewJob newJob) {
    String name = newJob.run().jobName();
    Created created = createJob(state, newJob.job(), "Job", RejectRun::apply);
    if (created == Created.EXISTS) {
      state.events().adopted("adopted existing Job " + name);
    } else if (created == Created.CREATED) {
      LOG.infof(
          "%s/%s: started %s (%s to %s)",
          state.namespace(),
          state.name(),
          name,
          newJob.run().direction().word(),
          newJob.run().targetRevision());
    }
  }

  /**
   * Creates a plan Job; one that exists already is the same plan. A plan Job the API server refuses
   * is refused as a run's Job is ({@link RejectRun}): the run cannot start without it.
   */
  private void createPlanJob(ReconcileState state, Job job) {
    if (createJob(state, job, "plan Job", RejectRun::apply) == Created.CREATED) {
      LOG.infof(
          "%s/%s: started plan Job %s",
          state.namespace(), state.name(), job.getMetadata().getName());
    }
  }

  /**
   * Creates a drift check Job; one that exists already is that check. A Job the API server refuses
   * fails the check (told in status); the next one is tried after the interval.
   */
  private void createCheckJob(ReconcileState state, Job job) {
    if (createJob(state, job, "drift check Job", CheckDrift::refused) == Created.CREATED) {
      LOG.debugf(
          "%s/%s: started drift check Job %s",
          state.namespace(), state.name(), job.getMetadata().getName());
    }
  }
}
