package dev.schemagate.operator.kube;

import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The Deployment informer's store: of each Deployment in the watched namespaces it keeps only what
 * the gate reads, so that the thousands a cluster has and no DatabaseMigration gates cost a few
 * hundred bytes each, whatever their pod templates hold. Kept: the resourceVersion (the pause
 * patch's guard), the held-by annotation and whether there are annotations at all (the patch adds
 * the map when there is none), {@code spec.paused}, {@code spec.progressDeadlineSeconds} and the
 * pod template's label {@code schemagate.dev/migration} and annotation {@code
 * schemagate.dev/requires-revision}. A Deployment read from this store has these and nothing else.
 * Also kept, for the contract part of a release that waits for the rollout: the generation, {@code
 * spec.replicas}, and of the status the observed generation, the replica counts (all, updated,
 * available) and a Progressing condition that reports ProgressDeadlineExceeded. The informer hands
 * it {@link GateDeployment}s: what it drops of them was never read from the JSON.
 */
final class DeploymentStore implements ItemStore<GateDeployment> {
  /**
   * What is kept of one Deployment; its namespace and name are the key (a progress deadline of -1:
   * none set).
   */
  record Kept(
      String resourceVersion,
      boolean annotated,
      String heldBy,
      Boolean paused,
      int progressDeadlineSeconds,
      String podMigration,
      String podRequires,
      Long generation,
      Integer replicas,
      Rollout rollout) {
    static Kept of(Deployment d) {
      Map<String, String> annotations = d.getMetadata().getAnnotations();
      DeploymentSpec spec = d.getSpec();
      PodTemplateSpec template = spec == null ? null : spec.getTemplate();
      ObjectMeta podMeta = template == null ? null : template.getMetadata();
      Map<String, String> podLabels = podMeta == null ? null : podMeta.getLabels();
      Map<String, String> podAnnotations = podMeta == null ? null : podMeta.getAnnotations();
      return new Kept(
          d.getMetadata().getResourceVersion(),
          annotations != null,
          annotations == null ? null : annotations.get(HeldBy.KEY),
          spec == null ? null : spec.getPaused(),
          spec == null || spec.getProgressDeadlineSeconds() == null
              ? -1
              : spec.getProgressDeadlineSeconds(),
          podLabels == null ? null : podLabels.get(PodRequirement.LABEL),
          podAnnotations == null ? null : podAnnotations.get(PodRequirement.REQUIRES),
          d.getMetadata().getGeneration(),
          spec == null ? null : spec.getReplicas(),
          Rollout.of(d.getStatus()));
    }

    GateDeployment restore(String namespace, String name) {
      ObjectMeta meta = new ObjectMeta();
      meta.setNamespace(namespace);
      meta.setName(name);
      meta.setResourceVersion(resourceVersion);
      Map<String, String> annotations = null;
      if (annotated) {
        annotations = new HashMap<>();
        if (heldBy != null) {
          annotations.put(HeldBy.KEY, heldBy);
        }
      }
      meta.setAnnotations(annotations);
      ObjectMeta podMeta = new ObjectMeta();
      if (podMigration != null) {
        podMeta.setLabels(new HashMap<>(Map.of(PodRequirement.LABEL, podMigration)));
      }
      if (podRequires != null) {
        podMeta.setAnnotations(new HashMap<>(Map.of(PodRequirement.REQUIRES, podRequires)));
      }
      PodTemplateSpec template = new PodTemplateSpec();
      template.setMetadata(podMeta);
      DeploymentSpec spec = new DeploymentSpec();
      spec.setPaused(paused);
      spec.setProgressDeadlineSeconds(progressDeadlineSeconds < 0 ? null : progressDeadlineSeconds);
      spec.setTemplate(template);
      meta.setGeneration(generation);
      spec.setReplicas(replicas);
      GateDeployment d = new GateDeployment();
      d.setMetadata(meta);
      d.setSpec(spec);
      d.setStatus(rollout == null ? null : rollout.restore());
      return d;
    }
  }

  /**
   * What is kept of a Deployment's status: how far its rollout is.
   *
   * @param deadlineExceeded the message of Progressing=False, ProgressDeadlineExceeded; null when
   *     it does not report that
   */
  record Rollout(
      Long observedGeneration,
      Integer replicas,
      Integer updatedReplicas,
      Integer availableReplicas,
      String deadlineExceeded) {
    static final String DEADLINE_EXCEEDED = "ProgressDeadlineExceeded";

    static Rollout of(DeploymentStatus status) {
      if (status == null) {
        return null;
      }
      String deadline = null;
      if (status.getConditions() != null) {
        for (DeploymentCondition c : status.getConditions()) {
          if ("Progressing".equals(c.getType())
              && "False".equals(c.getStatus())
              && DEADLINE_EXCEEDED.equals(c.getReason())) {
            deadline = c.getMessage() == null ? "" : c.getMessage();
          }
        }
      }
      return new Rollout(
          status.getObservedGeneration(),
          status.getReplicas(),
          status.getUpdatedReplicas(),
          status.getAvailableReplicas(),
          deadline);
    }

    DeploymentStatus restore() {
      DeploymentStatus status = new DeploymentStatus();
      status.setObservedGeneration(observedGeneration);
      status.setReplicas(replicas);
      status.setUpdatedReplicas(updatedReplicas);
      status.setAvailableReplicas(availableReplicas);
      if (deadlineExceeded != null) {
        DeploymentCondition c = new DeploymentCondition();
        c.setType("Progressing");
        c.setStatus("False");
        c.setReason(DEADLINE_EXCEEDED);
        c.setMessage(deadlineExceeded.isEmpty() ? null : deadlineExceeded);
        status.setConditions(new ArrayList<>(List.of(c)));
      }
      return status;
    }
  }

  private final ConcurrentHashMap<String, Kept> store = new ConcurrentHashMap<>();

  /** The Deployment as this store would give it back: what the gate reads of it. */
  static GateDeployment trim(Deployment d) {
    return Kept.of(d).restore(d.getMetadata().getNamespace(), d.getMetadata().getName());
  }

  @Override
  public String getKey(GateDeployment d) {
    return Cache.metaNamespaceKeyFunc(d);
  }

  @Override
  public GateDeployment put(String key, GateDeployment d) {
    Kept kept = Kept.of(d);
    shrink(d, kept);
    return restore(key, store.put(key, kept));
  }

  /**
   * Leaves of the informer's own copy of a Deployment only what is kept. The informer hands that
   * copy to its event handlers through a queue; with many Deployments listed at start-up the queue
   * held them in full, and the operator ran out of heap on the real control plane before its
   * handlers had caught up (bench/README.md, issue 15).
   */
  private static void shrink(Deployment d, Kept kept) {
    GateDeployment small = kept.restore(d.getMetadata().getNamespace(), d.getMetadata().getName());
    d.setMetadata(small.getMetadata());
    d.setSpec(small.getSpec());
    d.setStatus(small.getStatus());
    d.getAdditionalProperties().clear();
  }

  @Override
  public GateDeployment remove(String key) {
    return restore(key, store.remove(key));
  }

  @Override
  public Stream<String> keySet() {
    return store.keySet().stream();
  }

  @Override
  public Stream<GateDeployment> values() {
    return store.entrySet().stream().map(e -> restore(e.getKey(), e.getValue()));
  }

  @Override
  public int size() {
    return store.size();
  }

  @Override
  public GateDeployment get(String key) {
    return restore(key, store.get(key));
  }

  @Override
  public boolean isFullState() {
    return false;
  }

  private static GateDeployment restore(String key, Kept kept) {
    if (kept == null) {
      return null;
    }
    int slash = key.indexOf('/');
    return slash < 0
        ? kept.restore(null, key)
        : kept.restore(key.substring(0, slash), key.substring(slash + 1));
  }
}
