package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Direction;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Tool;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a run stands, read from its Job, its pods and the Job controller's Events. */
class RunObserverTest {
  static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");
  static final String JOB = "orders-abcdef0123";

  static Job job(String condition, String reason, String since) {
    RunInputs run =
        new RunInputs("abcdef0123", JOB, Direction.UPGRADE, IMAGE_1, IMAGE_1, "3", null, 1);
    Job job =
        JobFactory.desired(
            withUid(migration("shop", "orders", IMAGE_1, "3")), run, JobDefaults.STANDARD);
    job.getMetadata().setUid("job-uid");
    if (condition != null) {
      job.setStatus(
          new JobStatusBuilder()
              .withConditions(
                  new JobConditionBuilder()
                      .withType(condition)
                      .withStatus("True")
                      .withReason(reason)
                      .withLastTransitionTime(since)
                      .build())
              .build());
    }
    return job;
  }

  static Pod pod(String phase, ContainerStatus container) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(JOB + "-x7k2p")
        .withCreationTimestamp("2026-11-25T09:59:00Z")
        .endMetadata()
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(container == null ? List.of() : List.of(container))
        .endStatus()
        .build();
  }

  static ContainerStatus terminated(int exit, String message) {
    return new ContainerStatusBuilder()
        .withName(JobFactory.CONTAINER)
        .withNewState()
        .withNewTerminated()
        .withExitCode(exit)
        .withMessage(message)
        .endTerminated()
        .endState()
        .build();
  }

  static ContainerStatus running() {
    return new ContainerStatusBuilder()
        .withName(JobFactory.CONTAINER)
        .withNewState()
        .withNewRunning()
        .endRunning()
        .endState()
        .build();
  }

  static ContainerStatus waiting(String reason, String message) {
    return new ContainerStatusBuilder()
        .withName(JobFactory.CONTAINER)
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .withMessage(message)
        .endWaiting()
        .endState()
        .build();
  }

  static RunState observe(Job job, List<Pod> pods, List<Event> events) {
    return RunObserver.observe(JOB, job, pods, events, Tool.FLYWAY, NOW);
  }

  @Test
  void aFailedJobWhosePodResultIsNotInTheCacheYetWaitsForIt() {
    RunState early =
        observe(
            job("Failed", "BackoffLimitExceeded", "2026-11-25T09:59:57Z"), List.of(), List.of());
    assertThat(early)
        .isInstanceOfSatisfying(
            RunState.AwaitingResult.class,
            a -> assertThat(a.retryAfter()).isEqualTo(Duration.ofSeconds(7)));
    RunState podStillRunning =
        observe(
            job("Failed", "BackoffLimitExceeded", "2026-11-25T09:59:57Z"),
            List.of(pod("Running", running())),
            List.of());
    assertThat(podStillRunning)
        .as("its pod's own events will tell")
        .isEqualTo(new RunState.AwaitingResult(null));
    RunState withResult =
        observe(
            job("Failed", "BackoffLimitExceeded", "2026-11-25T09:59:57Z"),
            List.of(pod("Failed", terminated(5, "{\"message\":\"connection refused\"}"))),
            List.of());
    assertThat(withResult)
        .isInstanceOfSatisfying(
            RunState.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo(Reason.DatabaseUnreachable);
              assertThat(f.message()).contains("exit code 5", "connection refused");
            });
    RunState late =
        observe(
            job("Failed", "BackoffLimitExceeded", "2026-11-25T09:59:40Z"), List.of(), List.of());
    assertThat(late)
        .as("a result that never comes is waited for no longer than the grace")
        .isInstanceOf(RunState.Failed.class);
  }

  @Test
  void aCompleteJobWaitsForItsResultTooButADeadlineDoesNot() {
    assertThat(observe(job("Complete", null, "2026-11-25T09:59:59Z"), List.of(), List.of()))
        .isInstanceOf(RunState.AwaitingResult.class);
    assertThat(
            observe(
                job("Complete", null, "2026-11-25T09:59:59Z"),
                List.of(pod("Succeeded", terminated(0, "{\"toRevision\":\"3\"}"))),
                List.of()))
        .isInstanceOfSatisfying(
            RunState.Succeeded.class, s -> assertThat(s.result().toRevision()).isEqualTo("3"));
    assertThat(
            observe(
                job("Failed", "DeadlineExceeded", "2026-11-25T09:59:59Z"), List.of(), List.of()))
        .isInstanceOfSatisfying(
            RunState.Failed.class, f -> assertThat(f.reason()).isEqualTo(Reason.DeadlineExceeded));
  }

  @Test
  void aJobThatIsGoneIsRecordedOnlyOnceItsPodHasStopped() {
    assertThat(observe(null, List.of(pod("Running", running())), List.of()))
        .isInstanceOfSatisfying(
            RunState.Stopping.class,
            r -> assertThat(r.message()).contains("was deleted", "waiting for its pod"));
    assertThat(observe(null, List.of(pod("Failed", terminated(143, ""))), List.of()))
        .isInstanceOfSatisfying(
            RunState.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo(Reason.JobDeleted);
              assertThat(f.message()).contains(JOB, "outcome is unknown");
            });
  }

  @Test
  void podsTheApiServerRefusesAreTheirOwnReason() {
    Event refused =
        new EventBuilder()
            .withNewMetadata()
            .withName(JOB + ".1")
            .endMetadata()
            .withReason("FailedCreate")
            .withType("Warning")
            .withMessage(
                "Error creating: pods \""
                    + JOB
                    + "-abcde\" is forbidden: exceeded quota: pods,"
                    + " requested: pods=1, used: pods=0, limited: pods=0")
            .withLastTimestamp("2026-11-25T09:59:59Z")
            .build();
    assertThat(observe(job(null, null, null), List.of(), List.of(refused)))
        .isInstanceOfSatisfying(
            RunState.Blocked.class,
            b -> {
              assertThat(b.reason()).isEqualTo(Reason.PodsRejected);
              assertThat(b.message()).contains("exceeded quota", "ResourceQuota");
            });
  }

  @Test
  void anUnschedulablePodIsItsOwnReason() {
    Pod pending =
        new PodBuilder(pod("Pending", null))
            .editStatus()
            .addNewCondition()
            .withType("PodScheduled")
            .withStatus("False")
            .withReason("Unschedulable")
            .withMessage(
                "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.")
            .endCondition()
            .endStatus()
            .build();
    assertThat(observe(job(null, null, null), List.of(pending), List.of()))
        .isInstanceOfSatisfying(
            RunState.Blocked.class,
            b -> {
              assertThat(b.reason()).isEqualTo(Reason.PodUnschedulable);
              assertThat(b.message()).contains("node affinity/selector", "spec.job.nodeSelector");
            });
  }

  @Test
  void anImageThatRunsAsRootIsNotAMissingSecret() {
    for (String kubelet :
        List.of(
            "container has runAsNonRoot and image will run as root (pod: \"x_shop(1)\","
                + " container: migrate)",
            "container has runAsNonRoot and image has non-numeric user (app), cannot verify user"
                + " is non-root (pod: \"x_shop(1)\", container: migrate)")) {
      assertThat(
              observe(
                  job(null, null, null),
                  List.of(pod("Pending", waiting("CreateContainerConfigError", kubelet))),
                  List.of()))
          .isInstanceOfSatisfying(
              RunState.Blocked.class,
              b -> {
                assertThat(b.reason()).isEqualTo(Reason.NonRootUserRequired);
                assertThat(b.message()).contains("spec.job.runAsUser", kubelet);
              });
    }
    assertThat(
            observe(
                job(null, null, null),
                List.of(
                    pod(
                        "Pending",
                        waiting("CreateContainerConfigError", "secret \"orders-db\" not found"))),
                List.of()))
        .isInstanceOfSatisfying(
            RunState.Blocked.class, b -> assertThat(b.reason()).isEqualTo(Reason.SecretNotFound));
  }

  @Test
  void aSecretTheNodeMayNotReadYetIsAMomentNotAMissingSecret() {
    String race =
        "secrets \"orders-db\" is forbidden: User \"system:node:n1\" cannot get resource"
            + " \"secrets\" in API group \"\" in the namespace \"shop\": no relationship found"
            + " between node 'n1' and this object";
    Pod young = pod("Pending", waiting("CreateContainerConfigError", race));
    young.getMetadata().setCreationTimestamp("2026-11-25T09:59:58Z");
    assertThat(observe(job(null, null, null), List.of(young), List.of()))
        .isInstanceOf(RunState.Running.class);
    Pod old = pod("Pending", waiting("CreateContainerConfigError", race));
    assertThat(observe(job(null, null, null), List.of(old), List.of()))
        .as("when it lasts, it is told")
        .isInstanceOfSatisfying(
            RunState.Blocked.class, b -> assertThat(b.reason()).isEqualTo(Reason.SecretNotFound));
  }

  @Test
  void aJobHasSettledOnlyOnceTheJobControllerWroteItsLastCondition() {
    String at = "2026-11-25T09:59:30Z";
    assertThat(RunObserver.finished(job("SuccessCriteriaMet", null, at))).isTrue();
    assertThat(RunObserver.settled(job("SuccessCriteriaMet", null, at))).isFalse();
    assertThat(RunObserver.settled(job("FailureTarget", "BackoffLimitExceeded", at))).isFalse();
    assertThat(RunObserver.settled(job("Complete", null, at))).isTrue();
    assertThat(RunObserver.settled(job("Failed", "BackoffLimitExceeded", at))).isTrue();
    assertThat(RunObserver.settled(job(null, null, null))).isFalse();
  }

  @Test
  void aDatabaseWithObjectsButNoHistoryAndNoBaselineIsBaselineRequired() {
    RunState state =
        observe(
            job("Failed", "BackoffLimitExceeded", "2026-11-25T09:59:40Z"),
            List.of(
                pod(
                    "Failed",
                    terminated(
                        13,
                        "{\"message\":\"schema public has 2 tables but no history table:"
                            + " set spec.baseline.revision\"}"))),
            List.of());
    assertThat(state)
        .isInstanceOfSatisfying(
            RunState.Failed.class,
            f -> {
              assertThat(f.reason()).isEqualTo(Reason.BaselineRequired);
              assertThat(f.message())
                  .isEqualTo(
                      "no migration ran (exit code 13): schema public has 2 tables but no history"
                          + " table: set spec.baseline.revision");
            });
  }
}
