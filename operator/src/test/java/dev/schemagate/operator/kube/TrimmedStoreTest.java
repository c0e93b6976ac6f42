package dev.schemagate.operator.kube;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Direction;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.JobShape;
import dev.schemagate.operator.run.PinnedImage;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Job and pod stores keep what the steps read, and a run reads the same from them. */
class TrimmedStoreTest {
  static final RunInputs RUN =
      new RunInputs(
          "abcdef0123", "orders-abcdef0123", Direction.UPGRADE, IMAGE_1, IMAGE_1, "3", "2", 4);

  static Job job() {
    Job job =
        JobFactory.desired(
            withUid(migration("shop", "orders", IMAGE_1, "3")), RUN, JobDefaults.STANDARD);
    job.getMetadata().setUid("job-uid");
    job.getMetadata().setResourceVersion("17");
    job.getMetadata()
        .setManagedFields(
            List.of(
                new ManagedFieldsEntryBuilder().withManager("kube-controller-manager").build()));
    job.setStatus(
        new JobStatusBuilder()
            .withConditions(
                new JobConditionBuilder()
                    .withType("Complete")
                    .withStatus("True")
                    .withLastTransitionTime("2026-11-25T09:59:30Z")
                    .build())
            .withCompletionTime("2026-11-25T09:59:30Z")
            .build());
    return job;
  }

  static Pod pod() {
    return pod(
        "Succeeded",
        new ContainerStateBuilder()
            .withNewTerminated()
            .withExitCode(0)
            .withReason("Completed")
            .withMessage("{\"tool\":\"flyway\",\"toRevision\":\"3\"}")
            .withStartedAt("2026-11-25T09:59:05Z")
            .withFinishedAt("2026-11-25T09:59:29Z")
            .withContainerID("containerd://" + "c".repeat(64))
            .endTerminated()
            .build());
  }

  /** A pod of the run as the kubelet reports it, in the given phase and container state. */
  static Pod pod(String phase, ContainerState state) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("orders-abcdef0123-x7k2p")
        .withGenerateName("orders-abcdef0123-")
        .withNamespace("shop")
        .withCreationTimestamp("2026-11-25T09:59:00Z")
        .addToLabels(RunCodec.RUN_ID, "abcdef0123")
        .addToLabels("batch.kubernetes.io/job-name", "orders-abcdef0123")
        .addToAnnotations(RunCodec.MIGRATION, "orders")
        .addNewOwnerReference()
        .withApiVersion("batch/v1")
        .withKind("Job")
        .withName("orders-abcdef0123")
        .withUid("job-uid")
        .withController(true)
        .endOwnerReference()
        .addToFinalizers("batch.kubernetes.io/job-tracking")
        .addNewManagedField()
        .withManager("kubelet")
        .endManagedField()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-1")
        .addNewContainer()
        .withName(JobFactory.CONTAINER)
        .withImage(IMAGE_1)
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .withHostIP("10.0.0.7")
        .withPodIP("10.244.1.9")
        .withStartTime("2026-11-25T09:59:01Z")
        .withQosClass("Burstable")
        .withConditions(
            new PodConditionBuilder().withType("Initialized").withStatus("True").build(),
            new PodConditionBuilder().withType("Ready").withStatus("False").build(),
            new PodConditionBuilder().withType("PodScheduled").withStatus("True").build())
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName(JobFactory.CONTAINER)
                .withImage(IMAGE_1)
                .withImageID("shop/orders@sha256:" + "0".repeat(64))
                .withContainerID("containerd://" + "c".repeat(64))
                .withRestartCount(0)
                .withReady(false)
                .withStarted(false)
                .withState(state)
                .withNewLastState()
                .endLastState()
                .build())
        .endStatus()
        .build();
  }

  /** A pod no node can take: pending, no container status, PodScheduled False. */
  static Pod unschedulable() {
    Pod pod = pod("Pending", null);
    pod.getStatus().setContainerStatuses(null);
    pod.getStatus()
        .setConditions(
            List.of(
                new PodConditionBuilder()
                    .withType("PodScheduled")
                    .withStatus("False")
                    .withReason("Unschedulable")
                    .withMessage("0/1 nodes are available: 1 Insufficient memory.")
                    .build()));
    return pod;
  }

  @Test
  void keepsOfAJobWhatTheStepsRead() {
    TrimmedStore<Job> store = TrimmedStore.jobs();
    Job full = job();
    store.put(store.getKey(full), job());

    Job kept = store.get("shop/orders-abcdef0123");
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getUid()).isEqualTo("job-uid");
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("17");
    assertThat(kept.getMetadata().getAnnotations()).isEqualTo(full.getMetadata().getAnnotations());
    assertThat(kept.getMetadata().getLabels()).isEqualTo(full.getMetadata().getLabels());
    assertThat(kept.getSpec().getActiveDeadlineSeconds()).isEqualTo(900);
    assertThat(kept.getSpec().getTemplate().getSpec().getContainers())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getName()).isEqualTo(JobFactory.CONTAINER);
              assertThat(c.getImage()).isEqualTo(IMAGE_1);
              assertThat(c.getEnv()).isEmpty();
              assertThat(c.getResources()).isNull();
            });
    assertThat(kept.getSpec().getTemplate().getSpec().getVolumes()).isEmpty();
    assertThat(kept.getSpec().getPodFailurePolicy()).isNull();
    assertThat(kept.getStatus()).isEqualTo(full.getStatus());
    assertThat(RunCodec.inputs(kept)).isEqualTo(RunCodec.inputs(full));
    assertThat(RunCodec.migration(kept)).isEqualTo("orders");
  }

  @Test
  void keepsOfAPodWhatTheStepsRead() {
    TrimmedStore<Pod> store = TrimmedStore.pods();
    Pod full = pod();
    store.put(store.getKey(full), pod());

    Pod kept = store.get("shop/orders-abcdef0123-x7k2p");
    assertThat(kept.getSpec()).isNull();
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getOwnerReferences())
        .as("its controller's, whose UID tells whose pod it is")
        .singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo("job-uid"));
    assertThat(kept.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(kept.getMetadata().getLabels()).isEqualTo(full.getMetadata().getLabels());
    assertThat(kept.getMetadata().getAnnotations()).isEqualTo(full.getMetadata().getAnnotations());
    assertThat(kept.getMetadata().getCreationTimestamp()).isEqualTo("2026-11-25T09:59:00Z");
    assertThat(RunCodec.runId(kept)).isEqualTo("abcdef0123");
    PodStatus status = kept.getStatus();
    assertThat(status.getPhase()).isEqualTo("Succeeded");
    assertThat(status.getHostIP()).isNull();
    assertThat(status.getPodIP()).isNull();
    assertThat(status.getStartTime()).isNull();
    assertThat(status.getQosClass()).isNull();
    assertThat(status.getConditions()).extracting(c -> c.getType()).containsExactly("PodScheduled");
    assertThat(status.getContainerStatuses())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getName()).isEqualTo(JobFactory.CONTAINER);
              assertThat(c.getImageID()).isEqualTo("shop/orders@sha256:" + "0".repeat(64));
              assertThat(c.getImage()).isNull();
              assertThat(c.getContainerID()).isNull();
              assertThat(c.getLastState()).isNull();
              assertThat(c.getState().getTerminated().getExitCode()).isZero();
              assertThat(c.getState().getTerminated().getMessage())
                  .isEqualTo("{\"tool\":\"flyway\",\"toRevision\":\"3\"}");
              assertThat(c.getState().getTerminated().getFinishedAt()).isNull();
            });
    assertThat(PinnedImage.imageId(List.of(kept))).isEqualTo(PinnedImage.imageId(List.of(full)));
    assertThat(RunObserver.terminationMessage(List.of(kept)))
        .isEqualTo(RunObserver.terminationMessage(List.of(full)));
  }

  /** A run not ended yet, in each state a step tells apart, reads the same from a kept pod. */
  @Test
  void aRunInEveryPodStateReadsTheSameFromWhatIsKept() {
    Job running = job();
    running.setStatus(null);
    Instant now = Instant.parse("2026-11-25T10:00:00Z");
    Map<Pod, Class<? extends RunState>> pods =
        Map.of(
            pod("Running", new ContainerStateBuilder().withNewRunning().endRunning().build()),
            RunState.Running.class,
            pod(
                "Pending",
                new ContainerStateBuilder()
                    .withNewWaiting()
                    .withReason("ImagePullBackOff")
                    .withMessage("Back-off pulling image")
                    .endWaiting()
                    .build()),
            RunState.Blocked.class,
            pod(
                "Pending",
                new ContainerStateBuilder()
                    .withNewWaiting()
                    .withReason("CreateContainerConfigError")
                    .withMessage("secret \"orders-db\" not found")
                    .endWaiting()
                    .build()),
            RunState.Blocked.class,
            unschedulable(),
            RunState.Blocked.class);
    Job keptJob = TrimmedStore.job(job());
    keptJob.setStatus(null);
    pods.forEach(
        (pod, kind) -> {
          RunState fromFull =
              RunObserver.observe(
                  RUN.jobName(), running, List.of(pod), List.of(), Tool.FLYWAY, now);
          RunState fromKept =
              RunObserver.observe(
                  RUN.jobName(),
                  keptJob,
                  List.of(TrimmedStore.pod(new PodBuilder(pod).build())),
                  List.of(),
                  Tool.FLYWAY,
                  now);
          assertThat(fromKept).isEqualTo(fromFull).isInstanceOf(kind);
        });
  }

  /** The shapes that prove a Job and its pod the operator's are made before the spec is dropped. */
  @Test
  void whatIsKeptHasTheShapeOfTheWhole() {
    Job keptJob = TrimmedStore.job(job());
    assertThat(JobShape.of(keptJob).differsFrom(JobShape.ofSpec(job()))).isEmpty();
    Job plain = new JobBuilder(keptJob).build();
    assertThat(JobShape.of(plain).differsFrom(JobShape.ofSpec(job())))
        .as("a trimmed Job without its shape proves nothing")
        .isPresent();
    Pod fromTemplate = pod();
    fromTemplate.setSpec(job().getSpec().getTemplate().getSpec());
    Pod keptPod = TrimmedStore.pod(new PodBuilder(fromTemplate).build());
    assertThat(JobShape.of(keptPod).runsAs(JobShape.of(keptJob))).isTrue();
    assertThat(JobShape.of(TrimmedStore.pod(pod())).runsAs(JobShape.of(keptJob)))
        .as("a pod whose container is not the template's")
        .isFalse();
  }

  @Test
  void aRunReadsTheSameFromWhatIsKept() {
    Instant now = Instant.parse("2026-11-25T10:00:00Z");
    RunState fromFull =
        RunObserver.observe(RUN.jobName(), job(), List.of(pod()), List.of(), Tool.FLYWAY, now);
    RunState fromKept =
        RunObserver.observe(
            RUN.jobName(),
            TrimmedStore.job(job()),
            List.of(TrimmedStore.pod(pod())),
            List.of(),
            Tool.FLYWAY,
            now);
    assertThat(fromKept).isEqualTo(fromFull).isInstanceOf(RunState.Succeeded.class);
  }
}
