package dev.schemagate.operator.kube;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.schemagate.operator.run.JobShape;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateRunning;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The store of the informers of the operator's own Jobs and their pods: it keeps each object
 * without what no step reads, so that a run costs its status, not the pod template the operator
 * wrote. Of every object the metadata is kept without {@code managedFields}; of a Job, {@code
 * spec.activeDeadlineSeconds}, the name and image of each container of its pod template, its
 * status, and its {@link JobShape} (made from the full spec before it is trimmed: what proves it to
 * be the Job the operator would create, in 64 bytes); of a pod, no spec, only its controller's
 * owner reference, no finalizers, its shape (what its migration container runs), and of its status
 * the phase, the {@code PodScheduled} condition and of each container its name, image digest and
 * state (waiting with its reason, running, or terminated with exit code, reason and message). A
 * finished run's pod stays cached as long as its Job (with the run's logs); what the kubelet
 * reports besides (addresses, times, the other conditions, the last state) no step reads.
 */
class TrimmedStore<T extends HasMetadata> extends BasicItemStore<T> {
  /** The one pod condition a step reads: whether no node can take the pod. */
  private static final String SCHEDULED = "PodScheduled";

  private final UnaryOperator<T> trim;

  TrimmedStore(UnaryOperator<T> trim) {
    super(Cache::metaNamespaceKeyFunc);
    this.trim = trim;
  }

  static TrimmedStore<Job> jobs() {
    return new TrimmedStore<>(TrimmedStore::job);
  }

  static TrimmedStore<Pod> pods() {
    return new TrimmedStore<>(TrimmedStore::pod);
  }

  @Override
  public final T put(String key, T obj) {
    return super.put(key, trim.apply(obj));
  }

  /**
   * Trims a Job to what this store keeps, in place, and gives back what is kept: the trimmed Job
   * with its shape. The informer's own copy, which its event handlers get and which waits in their
   * queue, is then no larger than what is kept (left whole, the full object would wait in the
   * queue).
   */
  static Job job(Job job) {
    JobShape shape = JobShape.ofSpec(job);
    stripManagedFields(job);
    JobSpec full = job.getSpec();
    JobSpec spec = new JobSpec();
    if (full != null) {
      spec.setActiveDeadlineSeconds(full.getActiveDeadlineSeconds());
      PodTemplateSpec template = full.getTemplate();
      if (template != null && template.getSpec() != null) {
        PodSpec pod = new PodSpec();
        pod.setContainers(
            template.getSpec().getContainers().stream().map(TrimmedStore::nameAndImage).toList());
        PodTemplateSpec kept = new PodTemplateSpec();
        kept.setSpec(pod);
        spec.setTemplate(kept);
      }
    }
    job.setSpec(spec);
    return new ShapedJob(job, shape);
  }

  /**
   * Trims a pod to what this store keeps, in place, and gives back what is kept (see {@link #job}).
   */
  static Pod pod(Pod pod) {
    JobShape shape = JobShape.ofSpec(pod);
    stripManagedFields(pod);
    if (pod.getMetadata() != null) {
      List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
      pod.getMetadata()
          .setOwnerReferences(
              owners == null
                  ? null
                  : owners.stream().filter(o -> Boolean.TRUE.equals(o.getController())).toList());
      pod.getMetadata().setFinalizers(null);
    }
    pod.setSpec(null);
    PodStatus full = pod.getStatus();
    if (full != null) {
      PodStatus status = new PodStatus();
      status.setPhase(full.getPhase());
      if (full.getConditions() != null) {
        status.setConditions(
            full.getConditions().stream().filter(c -> SCHEDULED.equals(c.getType())).toList());
      }
      if (full.getContainerStatuses() != null) {
        status.setContainerStatuses(
            full.getContainerStatuses().stream().map(TrimmedStore::imageAndState).toList());
      }
      pod.setStatus(status);
    }
    return new ShapedPod(pod, shape);
  }

  /**
   * A cached Job: trimmed, with the shape made of its full spec. A copy the client makes of it (by
   * serialization) has no shape, and proves nothing.
   */
  static final class ShapedJob extends Job implements JobShape.Shaped {
    private final transient JobShape shape;

    ShapedJob() {
      this.shape = null;
    }

    ShapedJob(Job trimmed, JobShape shape) {
      super(
          trimmed.getApiVersion(),
          trimmed.getKind(),
          trimmed.getMetadata(),
          trimmed.getSpec(),
          trimmed.getStatus());
      this.shape = shape;
    }

    @Override
    @JsonIgnore
    public JobShape shape() {
      return shape;
    }
  }

  /** A cached pod: trimmed, with the shape made of its full spec (what it runs); see ShapedJob. */
  static final class ShapedPod extends Pod implements JobShape.Shaped {
    private final transient JobShape shape;

    ShapedPod() {
      this.shape = null;
    }

    ShapedPod(Pod trimmed, JobShape shape) {
      super(
          trimmed.getApiVersion(),
          trimmed.getKind(),
          trimmed.getMetadata(),
          trimmed.getSpec(),
          trimmed.getStatus());
      this.shape = shape;
    }

    @Override
    @JsonIgnore
    public JobShape shape() {
      return shape;
    }
  }

  /**
   * Of a container's status: its name, the image it runs by digest, whether it waits (and why),
   * runs, or has ended (its exit code, reason and termination message: the run's result).
   */
  private static ContainerStatus imageAndState(ContainerStatus full) {
    ContainerStatus kept = new ContainerStatus();
    kept.setName(full.getName());
    kept.setImageID(full.getImageID());
    ContainerState state = full.getState();
    if (state != null) {
      ContainerState keptState = new ContainerState();
      keptState.setWaiting(state.getWaiting());
      if (state.getRunning() != null) {
        keptState.setRunning(new ContainerStateRunning());
      }
      ContainerStateTerminated ended = state.getTerminated();
      if (ended != null) {
        ContainerStateTerminated keptEnd = new ContainerStateTerminated();
        keptEnd.setExitCode(ended.getExitCode());
        keptEnd.setReason(ended.getReason());
        keptEnd.setMessage(ended.getMessage());
        keptState.setTerminated(keptEnd);
      }
      kept.setState(keptState);
    }
    return kept;
  }

  private static Container nameAndImage(Container full) {
    Container kept = new Container();
    kept.setName(full.getName());
    kept.setImage(full.getImage());
    return kept;
  }

  static void stripManagedFields(HasMetadata resource) {
    if (resource.getMetadata() != null) {
      resource.getMetadata().setManagedFields(null);
    }
  }
}
