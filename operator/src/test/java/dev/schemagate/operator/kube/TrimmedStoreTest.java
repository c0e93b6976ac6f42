package dev.schemagate.operator.kube;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Direction;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Instant;
import java.util.List;
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
    return new PodBuilder()
        .withNewMetadata()
        .withName("orders-abcdef0123-x7k2p")
        .withNamespace("shop")
        .withCreationTimestamp("2026-11-25T09:59:00Z")
        .addToLabels(RunCodec.RUN_ID, "abcdef0123")
        .addToAnnotations(RunCodec.MIGRATION, "orders")
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
        .withPhase("Succeeded")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName(JobFactory.CONTAINER)
                .withImageID("shop/orders@sha256:" + "0".repeat(64))
                .withNewState()
                .withNewTerminated()
                .withExitCode(0)
                .withMessage("{\"tool\":\"flyway\",\"toRevision\":\"3\"}")
                .endTerminated()
                .endState()
                .build())
        .endStatus()
        .build();
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
  void keepsOfAPodItsMetadataAndStatus() {
    TrimmedStore<Pod> store = TrimmedStore.pods();
    Pod full = pod();
    store.put(store.getKey(full), pod());

    Pod kept = store.get("shop/orders-abcdef0123-x7k2p");
    assertThat(kept.getSpec()).isNull();
    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(RunCodec.runId(kept)).isEqualTo("abcdef0123");
    assertThat(kept.getStatus()).isEqualTo(full.getStatus());
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
