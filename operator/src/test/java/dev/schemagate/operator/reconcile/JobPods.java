package dev.schemagate.operator.reconcile;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/** The pods of the steps' tests, as the Job controller makes them. */
final class JobPods {
  private JobPods() {}

  /**
   * The pod of a Job, from its template, controlled by it, with this container status (its phase
   * follows: Pending until the container terminated, then Succeeded or Failed by its exit code).
   */
  static Pod of(Job job, ContainerStatus container) {
    var terminated = container.getState().getTerminated();
    String phase =
        terminated == null ? "Pending" : terminated.getExitCode() == 0 ? "Succeeded" : "Failed";
    return new PodBuilder()
        .withMetadata(job.getSpec().getTemplate().getMetadata())
        .editMetadata()
        .addNewOwnerReference()
        .withKind("Job")
        .withName(job.getMetadata().getName())
        .withUid(job.getMetadata().getUid())
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withSpec(job.getSpec().getTemplate().getSpec())
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(container)
        .endStatus()
        .build();
  }
}
