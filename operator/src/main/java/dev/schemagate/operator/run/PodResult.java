package dev.schemagate.operator.run;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * What the pods of a Job of the operator's report: the one place their result is read. Of a Job's
 * pods the newest counts (a Job with a backoff limit may have made several); of that pod, its
 * migrate container: its state, the result it left in its termination message, and the image it
 * ran, by digest. Pure.
 *
 * @param pod the newest pod, if there is one
 * @param container the migrate container's status in it, if it has one yet
 */
public record PodResult(Optional<Pod> pod, Optional<ContainerStatus> container) {

  /** The result of the newest of these pods. */
  public static PodResult of(Collection<Pod> pods) {
    Optional<Pod> newest = pods.stream().max(Comparator.comparing(PodResult::created));
    return new PodResult(newest, newest.flatMap(PodResult::migrateContainer));
  }

  /** The migrate container's terminated state, once it has ended. */
  public Optional<ContainerStateTerminated> terminated() {
    return container.map(c -> c.getState() == null ? null : c.getState().getTerminated());
  }

  /** The result the container left in its termination message, or null. */
  public String message() {
    return terminated().map(ContainerStateTerminated::getMessage).orElse(null);
  }

  /** The imageID the kubelet reported for the container ({@code repo@sha256:...}), or null. */
  public String imageId() {
    return container.map(ContainerStatus::getImageID).filter(id -> !id.isBlank()).orElse(null);
  }

  private static Optional<ContainerStatus> migrateContainer(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> JobFactory.CONTAINER.equals(c.getName()))
        .findFirst();
  }

  private static String created(Pod pod) {
    String ts = pod.getMetadata().getCreationTimestamp();
    return (ts == null ? "" : ts) + pod.getMetadata().getName();
  }
}
