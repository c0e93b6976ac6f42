package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Run;
import dev.schemagate.operator.gate.PausePatch;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.reconcile.ClusterChanges;
import dev.schemagate.operator.reconcile.ReconcileState;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.ReconcileEvents;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * The one place the operator writes to the cluster, in two turns. First the writes to the cluster a
 * reconcile decided, in this order: the Jobs that never started are deleted, the gated Deployments
 * are paused or resumed (before any Job is made), the Jobs of the operator's (a run, a plan, a
 * drift check) are created through one path, the plan's ConfigMap written, and the pods whose
 * revision is in place leave the scheduling gate; a Job the API server refuses for what it is, or
 * has already, is not an error to retry blindly: it is given back ({@link ClusterChanges.Refusal})
 * for the reconcile to decide what it means before its status is written. Then that status, once,
 * only when it changed; then the Events, and finished Jobs get their owner reference or, when no
 * history keeps them, are deleted. The status comes before the Events and the Jobs' bookkeeping
 * because it is what users and tools wait for: written after them, Ready came measurably later than
 * the Deployment's resume on the real control plane (bench/README.md, issue 15). Each write is
 * handed to the informer cache it concerns, so the next reconcile reads its own writes.
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

  /** The API server's words when a JSON Patch's test op fails (evanphx/json-patch). */
  private static final Pattern TEST_FAILED =
      Pattern.compile("testing value .* failed|test operation does not apply|test failed");

  private final KubernetesClient client;
  private final Caches caches;
  private final EventRecorder events;

  public ClusterWriter(KubernetesClient client, Caches caches, EventRecorder events) {
    this.client = client;
    this.caches = caches;
    this.events = events;
  }

  /**
   * Makes the writes to the cluster a reconcile decided, the status excepted; returns what the API
   * server refused for what it is, and the Jobs it created. A refused hold on a gated Deployment
   * means the run's Job is not even asked for: the hold always comes first.
   */
  public ClusterChanges.Written write(ReconcileState state) {
    DatabaseMigration dbm = state.resource();
    String ns = dbm.getMetadata().getNamespace();
    ClusterChanges changes = state.changes();
    List<ClusterChanges.Refusal> refusals = new ArrayList<>();
    for (String name : changes.supersededJobs()) {
      attempt(ClusterChanges.Write.CLEANUP, jobNamed(ns, name), () -> deleteJob(ns, name))
          .ifPresent(refusals::add);
    }
    boolean holdRefused = false;
    for (PausePatch patch : changes.gatePatches()) {
      Optional<ClusterChanges.Refusal> refused =
          attempt(
              patch.paused() ? ClusterChanges.Write.HOLD : ClusterChanges.Write.RELEASE,
              patch.deployment(),
              () -> patch(patch));
      refused.ifPresent(refusals::add);
      holdRefused |= refused.isPresent() && patch.paused();
    }
    List<Job> created = new ArrayList<>();
    List<Job> notAsked = new ArrayList<>();
    for (Job job : changes.newJobs()) {
      if (holdRefused && RunCodec.isRun(job)) {
        notAsked.add(job);
        continue;
      }
      try {
        created.add(create(state, job));
      } catch (KubernetesClientException e) {
        refusals.add(createRefused(state, job, e));
      }
    }
    changes.planConfigMap().flatMap(cm -> writePlan(cm)).ifPresent(refusals::add);
    refusals.addAll(liftAll(changes.gateLifts()));
    return new ClusterChanges.Written(refusals, created, notAsked);
  }

  /**
   * Writes what the reconcile concluded: the status, if it changed; its Events; the owner
   * references and deletions of finished Jobs. A status write the API server refuses for what it is
   * (an admission policy, a webhook, RBAC) cannot be told in the status: it is a Warning Event and
   * a log line, and the reconcile fails, to be tried again with the SDK's backoff (250 ms doubling
   * to a minute, without end) until the status is written.
   */
  public void record(ReconcileState state, Context<DatabaseMigration> context) {
    DatabaseMigration dbm = state.resource();
    ClusterChanges changes = state.changes();
    if (state.statusChanged()) {
      try {
        writeStatus(state, context);
      } catch (KubernetesClientException e) {
        Optional<ClusterChanges.Refusal> refused = refusal(ClusterChanges.Write.CLEANUP, dbm, e);
        if (refused.isEmpty()) {
          throw e;
        }
        String message =
            "the API server refused the status of DatabaseMigration "
                + dbm.getMetadata().getName()
                + " ("
                + e.getCode()
                + "): "
                + refused.get().message()
                + "; the status is written again with a backoff until it is accepted (an"
                + " admission policy or webhook on databasemigrations/status, or the operator's"
                + " RBAC)";
        LOG.warnf(
            "%s/%s: %s", dbm.getMetadata().getNamespace(), dbm.getMetadata().getName(), message);
        recordEvents(state);
        events.record(dbm, EventReason.StatusRejected, message);
        throw new StatusRefused(message, e);
      }
    }
    recordEvents(state);
    for (Job job : changes.jobsToOwn()) {
      attempt(ClusterChanges.Write.CLEANUP, job, () -> own(dbm, job))
          .ifPresent(r -> cleanupRefused(dbm, r, "give its owner reference to"));
    }
    for (Job job : changes.finishedJobsToDelete()) {
      attempt(
              ClusterChanges.Write.CLEANUP,
              job,
              () -> deleteJob(job.getMetadata().getNamespace(), job.getMetadata().getName()))
          .ifPresent(r -> cleanupRefused(dbm, r, "delete"));
    }
  }

  /** The status write the API server refused: the reconcile fails, and is tried again. */
  public static final class StatusRefused extends RuntimeException {
    StatusRefused(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private void cleanupRefused(DatabaseMigration dbm, ClusterChanges.Refusal refusal, String verb) {
    String message =
        "the API server refused to let the operator "
            + verb
            + " "
            + refusal.what()
            + " ("
            + refusal.code()
            + "): "
            + refusal.message()
            + "; tried again at the next reconcile";
    LOG.infof("%s/%s: %s", dbm.getMetadata().getNamespace(), dbm.getMetadata().getName(), message);
    events.record(dbm, EventReason.CleanupRejected, message);
  }

  /**
   * Makes one write; a refusal for what it is (400, 403, 422, but not the failed test of a JSON
   * Patch, which means the cache was behind) is given back, any other error thrown for the SDK to
   * retry.
   */
  private static Optional<ClusterChanges.Refusal> attempt(
      ClusterChanges.Write write, HasMetadata object, Runnable call) {
    try {
      call.run();
      return Optional.empty();
    } catch (KubernetesClientException e) {
      Optional<ClusterChanges.Refusal> refused = refusal(write, object, e);
      if (refused.isEmpty()) {
        throw e;
      }
      return refused;
    }
  }

  /** The refusal an error of the API server is, if it refused the write for what it is. */
  static Optional<ClusterChanges.Refusal> refusal(
      ClusterChanges.Write write, HasMetadata object, KubernetesClientException e) {
    if (!REFUSED.contains(e.getCode())) {
      return Optional.empty();
    }
    String message =
        e.getStatus() != null && e.getStatus().getMessage() != null
            ? e.getStatus().getMessage()
            : e.getMessage();
    if (e.getCode() == 422 && message != null && TEST_FAILED.matcher(message).find()) {
      return Optional.empty(); // a JSON Patch's test: what it relied on changed; decide again
    }
    return Optional.of(new ClusterChanges.Refusal(write, object, e.getCode(), message));
  }

  private static Job jobNamed(String namespace, String name) {
    Job job = new Job();
    job.setMetadata(new ObjectMeta());
    job.getMetadata().setNamespace(namespace);
    job.getMetadata().setName(name);
    return job;
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
   * event, and one after the other would add a round trip per pod to the last one's wait. Returns
   * the lifts the API server refused.
   */
  private List<ClusterChanges.Refusal> liftAll(List<ClusterChanges.GateLift> lifts) {
    if (lifts.size() <= 1) {
      return lifts.stream().map(this::lift).flatMap(Optional::stream).toList();
    }
    List<CompletableFuture<Optional<ClusterChanges.Refusal>>> running =
        lifts.stream().map(lift -> CompletableFuture.supplyAsync(() -> lift(lift), LIFTS)).toList();
    try {
      CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
    return running.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList();
  }

  /**
   * Lifts the scheduling gate from a pod: a JSON Patch that removes that gate and nothing else,
   * guarded by a test that it is still where the cached pod has it. A pod that is gone needs no
   * lift; one the API server refuses to change is given back.
   */
  private Optional<ClusterChanges.Refusal> lift(ClusterChanges.GateLift lift) {
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
      return Optional.empty();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return Optional.empty();
      }
      Optional<ClusterChanges.Refusal> refused = refusal(ClusterChanges.Write.POD_GATE, pod, e);
      if (refused.isEmpty()) {
        throw e;
      }
      return refused;
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

  /**
   * Creates the plan's ConfigMap or, when one of its name exists, replaces its data (one JSON
   * Patch) only if it is this DatabaseMigration's: the patch first tests that the ConfigMap's owner
   * reference is this DatabaseMigration's UID. A ConfigMap of that name that someone else made is
   * never written over nor given an owner: the API server's failed test is given back as a refusal
   * (409) that names it, and the plan waits until it is renamed or deleted.
   */
  private Optional<ClusterChanges.Refusal> writeConfigMap(ConfigMap configMap) {
    String ns = configMap.getMetadata().getNamespace();
    try {
      client.configMaps().inNamespace(ns).resource(configMap).create();
      return Optional.empty();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    String owner = configMap.getMetadata().getOwnerReferences().get(0).getUid();
    String patch =
        client
            .getKubernetesSerialization()
            .asJson(
                List.of(
                    Map.of("op", "test", "path", "/metadata/ownerReferences/0/uid", "value", owner),
                    Map.of("op", "add", "path", "/data", "value", configMap.getData())));
    try {
      client
          .configMaps()
          .inNamespace(ns)
          // the object in hand, so that the client does not read it from the server first (the
          // operator may not read ConfigMaps)
          .resource(configMap)
          .patch(
              new PatchContext.Builder()
                  .withPatchType(PatchType.JSON)
                  .withFieldManager(FIELD_MANAGER)
                  .build(),
              patch);
      return Optional.empty();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 422) {
        throw e;
      }
      return Optional.of(
          new ClusterChanges.Refusal(
              ClusterChanges.Write.PLAN,
              configMap,
              409,
              "ConfigMap "
                  + configMap.getMetadata().getName()
                  + " exists and is not this DatabaseMigration's (it has no owner reference to"
                  + " DatabaseMigration "
                  + configMap.getMetadata().getOwnerReferences().get(0).getName()
                  + "): the operator does not write over it"));
    }
  }

  /** Writes the plan's ConfigMap; gives back what the API server refused, or a name taken. */
  private Optional<ClusterChanges.Refusal> writePlan(ConfigMap configMap) {
    try {
      return writeConfigMap(configMap);
    } catch (KubernetesClientException e) {
      return Optional.of(refusal(ClusterChanges.Write.PLAN, configMap, e).orElseThrow(() -> e));
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
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("ownerReferences", List.of(RunCodec.ownerReference(dbm)));
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
              // the Job in hand, so that the client does not read it from the server first (as
              // a plain Job: the client copies it)
              .resource(
                  new Job(
                      job.getApiVersion(),
                      job.getKind(),
                      job.getMetadata(),
                      job.getSpec(),
                      job.getStatus()))
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
    DatabaseMigration updated;
    try {
      updated = client.resource(state.withStatus()).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        state.startedRun().ifPresent(run -> recordStartedRun(dbm, run, context));
      }
      throw e;
    }
    context
        .eventSourceRetriever()
        .getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(dbm), updated, dbm);
  }

  /**
   * The status write met a 409 (someone changed the resource since it was read: a spec edit) after
   * this reconcile created a run's Job: the run alone is recorded, as the run under way, on the
   * resource as it is now, so that its Job is followed and its run goes into history. Lost, it
   * could not be found again once the spec changed: a run's Job has no owner reference, and its
   * image may no longer be spec.image, so nothing would prove it the operator's. The rest of the
   * status is decided again by the reconcile that the change brings (the 409 still fails this one).
   */
  private void recordStartedRun(
      DatabaseMigration dbm, Run run, Context<DatabaseMigration> context) {
    String ns = dbm.getMetadata().getNamespace();
    String name = dbm.getMetadata().getName();
    for (int attempt = 1; attempt <= 3; attempt++) {
      DatabaseMigration now =
          client.resources(DatabaseMigration.class).inNamespace(ns).withName(name).get();
      if (now == null) {
        return;
      }
      DatabaseMigrationStatus status =
          now.getStatus() != null ? now.getStatus() : new DatabaseMigrationStatus();
      if (status.getActiveRun() != null
          || status.getHistory().stream().anyMatch(h -> run.getId().equals(h.getId()))) {
        return; // a run is recorded already: never two at once, never one twice
      }
      status.setActiveRun(run);
      now.setStatus(status);
      try {
        DatabaseMigration updated = client.resource(now).updateStatus();
        context
            .eventSourceRetriever()
            .getControllerEventSource()
            .handleRecentResourceUpdate(ResourceID.fromResource(dbm), updated, dbm);
        LOG.infof(
            "%s/%s: the resource changed while run %s's Job %s was created: the run is recorded"
                + " as under way on the new one",
            ns, name, run.getId(), run.getJob());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          LOG.warnf(
              "%s/%s: could not record run %s (%d): %s; its Job %s is adopted while it runs",
              ns, name, run.getId(), e.getCode(), e.getMessage(), run.getJob());
          return;
        }
      }
    }
  }

  /**
   * Creates a Job of the operator's, of any kind, hands it to the cache and gives back the Job the
   * API server made (with its UID).
   */
  private Job create(ReconcileState state, Job job) {
    String ns = job.getMetadata().getNamespace();
    Job made = client.batch().v1().jobs().inNamespace(ns).resource(job).create();
    caches.jobCreated(made);
    LOG.infof("%s/%s: started %s %s", ns, state.name(), kind(job), job.getMetadata().getName());
    return made;
  }

  /**
   * A Job create that failed: one of that name that exists already (409), or one the API server
   * refuses for what it is (400, 403, 422: a value, a ResourceQuota, an admission policy), is given
   * back; any other error is thrown, for the SDK to retry.
   */
  private ClusterChanges.Refusal createRefused(
      ReconcileState state, Job job, KubernetesClientException e) {
    if (e.getCode() == 409) {
      return new ClusterChanges.Refusal(ClusterChanges.Write.JOB, job, 409, e.getMessage());
    }
    ClusterChanges.Refusal refused = refusal(ClusterChanges.Write.JOB, job, e).orElseThrow(() -> e);
    LOG.infof(
        "%s/%s: the API server refused %s %s (%d): %s",
        job.getMetadata().getNamespace(),
        state.name(),
        kind(job),
        job.getMetadata().getName(),
        e.getCode(),
        refused.message());
    return refused;
  }

  private static String kind(Job job) {
    return RunCodec.isRun(job) ? "Job" : RunCodec.isPlan(job) ? "plan Job" : "check Job";
  }
}
