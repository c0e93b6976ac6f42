package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.run.JobFactory;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Plays the parts of Kubernetes the mock API server does not: the Job controller and the kubelet
 * (pods and their container states, Job conditions) and gives the tests short ways to read what a
 * user would see.
 */
final class FakeCluster {
  final KubernetesClient client;
  final String ns;

  FakeCluster(KubernetesClient client, String ns) {
    this.client = client;
    this.ns = ns;
  }

  Deployment deployment(String name) {
    return client.apps().deployments().inNamespace(ns).withName(name).get();
  }

  Deployment createDeployment(String name, boolean paused) {
    return client
        .apps()
        .deployments()
        .inNamespace(ns)
        .resource(
            new DeploymentBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(ns)
                .endMetadata()
                .withNewSpec()
                .withPaused(paused)
                .withReplicas(2)
                .withNewSelector()
                .addToMatchLabels("app", name)
                .endSelector()
                .withNewTemplate()
                .withNewMetadata()
                .addToLabels("app", name)
                .endMetadata()
                .withNewSpec()
                .addNewContainer()
                .withName("app")
                .withImage("shop/" + name + ":1")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();
  }

  DatabaseMigration dbm(String name) {
    return client.resources(DatabaseMigration.class).inNamespace(ns).withName(name).get();
  }

  List<Job> jobs() {
    return client.batch().v1().jobs().inNamespace(ns).list().getItems();
  }

  Job job(String name) {
    return client.batch().v1().jobs().inNamespace(ns).withName(name).get();
  }

  List<Event> events() {
    return client.v1().events().inNamespace(ns).list().getItems();
  }

  List<String> eventReasons() {
    return events().stream().map(Event::getReason).collect(Collectors.toList());
  }

  /**
   * The digest the kubelet reports as the container's imageID ({@code <repository>@sha256:...}, as
   * containerd does); null (the default): no imageID.
   */
  String digest;

  /** The kubelet: the Job's pod, with its container terminated (exit code and message). */
  void podTerminated(Job job, int exitCode, String message) {
    writePod(
        job,
        new ContainerStatusBuilder()
            .withName(JobFactory.CONTAINER)
            .withImage(image(job))
            .withImageID(imageId(job))
            .withReady(false)
            .withRestartCount(0)
            .withNewState()
            .withNewTerminated()
            .withExitCode(exitCode)
            .withMessage(message)
            .withReason(exitCode == 0 ? "Completed" : "Error")
            .endTerminated()
            .endState()
            .build(),
        exitCode == 0 ? "Succeeded" : "Failed");
  }

  void podRunning(Job job) {
    writePod(
        job,
        new ContainerStatusBuilder()
            .withName(JobFactory.CONTAINER)
            .withImage(image(job))
            .withReady(true)
            .withRestartCount(0)
            .withNewState()
            .withNewRunning()
            .withStartedAt(Instant.now().toString())
            .endRunning()
            .endState()
            .build(),
        "Running");
  }

  void podWaiting(Job job, String reason, String message) {
    writePod(
        job,
        new ContainerStatusBuilder()
            .withName(JobFactory.CONTAINER)
            .withImage(image(job))
            .withReady(false)
            .withRestartCount(0)
            .withNewState()
            .withNewWaiting()
            .withReason(reason)
            .withMessage(message)
            .endWaiting()
            .endState()
            .build(),
        "Pending");
  }

  /** The Job controller: a condition, as it sets it once the pod has ended. */
  void jobCondition(Job job, String type, String reason) {
    Job fresh =
        client.batch().v1().jobs().inNamespace(ns).withName(job.getMetadata().getName()).get();
    List<JobCondition> conditions = new ArrayList<>();
    conditions.add(
        new JobConditionBuilder()
            .withType(type)
            .withStatus("True")
            .withReason(reason)
            .withMessage(reason == null ? null : "Job has reached the specified " + reason)
            .withLastTransitionTime(Instant.now().toString())
            .build());
    fresh.setStatus(
        new JobStatusBuilder()
            .withConditions(conditions)
            .withSucceeded("Complete".equals(type) ? 1 : 0)
            .withFailed("Failed".equals(type) ? 1 : 0)
            .withActive(0)
            .build());
    client.batch().v1().jobs().inNamespace(ns).resource(fresh).updateStatus();
  }

  /** Someone deletes the Job; the mock API server has no garbage collector: its pod stays. */
  void deleteJob(Job job) {
    client.batch().v1().jobs().inNamespace(ns).withName(job.getMetadata().getName()).delete();
  }

  /** The garbage collector (or a person) deletes the Job's pod. */
  void deletePod(Job job) {
    client.pods().inNamespace(ns).withName(job.getMetadata().getName() + "-pod").delete();
  }

  void pauseByHand(String deployment, boolean paused) {
    client
        .apps()
        .deployments()
        .inNamespace(ns)
        .withName(deployment)
        .edit(
            d -> {
              d.getSpec().setPaused(paused);
              return d;
            });
  }

  void removeAnnotationByHand(String deployment, String key) {
    client
        .apps()
        .deployments()
        .inNamespace(ns)
        .withName(deployment)
        .edit(
            d -> {
              d.getMetadata().getAnnotations().remove(key);
              return d;
            });
  }

  void succeed(Job job, String result) {
    podTerminated(job, 0, result);
    jobCondition(job, "Complete", null);
  }

  void fail(Job job, int exitCode, String result) {
    podTerminated(job, exitCode, result);
    jobCondition(job, "Failed", "BackoffLimitExceeded");
  }

  private void writePod(
      Job job, io.fabric8.kubernetes.api.model.ContainerStatus status, String phase) {
    String name = job.getMetadata().getName() + "-pod";
    Pod pod = client.pods().inNamespace(ns).withName(name).get();
    if (pod == null) {
      var template = job.getSpec().getTemplate();
      Job made =
          client.batch().v1().jobs().inNamespace(ns).withName(job.getMetadata().getName()).get();
      pod =
          client
              .pods()
              .inNamespace(ns)
              .resource(
                  new PodBuilder()
                      .withNewMetadata()
                      .withName(name)
                      .withNamespace(ns)
                      .withLabels(template.getMetadata().getLabels())
                      .withAnnotations(template.getMetadata().getAnnotations())
                      .addToLabels("job-name", job.getMetadata().getName())
                      // the Job controller's: the pod is the Job's, by its UID
                      .addNewOwnerReference()
                      .withApiVersion("batch/v1")
                      .withKind("Job")
                      .withName(job.getMetadata().getName())
                      .withUid(made == null ? null : made.getMetadata().getUid())
                      .withController(true)
                      .withBlockOwnerDeletion(true)
                      .endOwnerReference()
                      .endMetadata()
                      .withSpec(template.getSpec())
                      .build())
              .create();
    }
    pod.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder()
            .withPhase(phase)
            .withContainerStatuses(status)
            .build());
    client.pods().inNamespace(ns).resource(pod).updateStatus();
  }

  private String imageId(Job job) {
    String image = image(job);
    if (image.contains("@sha256:")) {
      return image; // pulled by digest: that digest
    }
    if (digest == null) {
      return null;
    }
    String ref = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
    return ref.replaceFirst(":[^:/]+$", "") + "@sha256:" + digest;
  }

  private static String image(Job job) {
    return job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }
}
