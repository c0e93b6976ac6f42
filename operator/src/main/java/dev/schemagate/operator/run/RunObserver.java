package dev.schemagate.operator.run;

import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;

/** Reads a run's state from its Job and pods. Pure. */
public final class RunObserver {
  private static final Set<String> PULL_FAILURES =
      Set.of("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull");

  private RunObserver() {}

  public static RunState observe(Job job, Collection<Pod> pods, Tool tool) {
    if (job == null) {
      return new RunState.Failed(
          Reasons.JOB_DELETED,
          "the run's Job was deleted before it reported a result",
          RunResult.EMPTY);
    }
    Optional<Pod> pod = pods.stream().max(Comparator.comparing(RunObserver::created));
    Optional<ContainerStatus> container = pod.flatMap(RunObserver::migrateContainer);
    Optional<ContainerStateTerminated> terminated =
        container.map(c -> c.getState() == null ? null : c.getState().getTerminated());

    if (conditionTrue(job, "Complete") || conditionTrue(job, "SuccessCriteriaMet")) {
      if (pod.isPresent() && terminated.isEmpty()) {
        return new RunState.AwaitingResult();
      }
      return new RunState.Succeeded(
          terminated.map(t -> ResultParser.parse(t.getMessage())).orElse(RunResult.EMPTY));
    }
    Optional<JobCondition> failed =
        condition(job, "Failed").or(() -> condition(job, "FailureTarget"));
    if (failed.isPresent()) {
      RunResult result =
          terminated.map(t -> ResultParser.parse(t.getMessage())).orElse(RunResult.EMPTY);
      return failure(job, failed.get(), terminated.orElse(null), result, tool);
    }
    Optional<ContainerStateWaiting> waiting =
        container.map(c -> c.getState() == null ? null : c.getState().getWaiting());
    if (waiting.isPresent()) {
      String reason = waiting.get().getReason();
      String message = Redactor.redact(waiting.get().getMessage());
      if (reason != null && PULL_FAILURES.contains(reason)) {
        return new RunState.Blocked(
            Reasons.IMAGE_PULL_FAILED,
            "image "
                + job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()
                + " cannot be pulled ("
                + reason
                + ")"
                + suffix(message)
                + "; fix spec.image or spec.job.imagePullSecrets");
      }
      if ("CreateContainerConfigError".equals(reason)) {
        return new RunState.Blocked(
            Reasons.SECRET_NOT_FOUND,
            "the migration container cannot start"
                + suffix(message)
                + "; create the Secret named in spec.database.secretRef, or fix spec.env");
      }
      if ("CreateContainerError".equals(reason) || "RunContainerError".equals(reason)) {
        return new RunState.Blocked(Reasons.CONTAINER_CREATE_FAILED, reason + suffix(message));
      }
    }
    boolean started =
        terminated.isPresent()
            || container
                .map(c -> c.getState() != null && c.getState().getRunning() != null)
                .orElse(false);
    return started
        ? new RunState.Running("Job " + job.getMetadata().getName() + " is running")
        : starting(job.getMetadata().getName());
  }

  /** A run whose Job has no running container yet (or was just made). */
  public static RunState.Running starting(String job) {
    return new RunState.Running("Job " + job + " is starting");
  }

  private static RunState.Failed failure(
      Job job,
      JobCondition condition,
      ContainerStateTerminated terminated,
      RunResult result,
      Tool tool) {
    if ("DeadlineExceeded".equals(condition.getReason())) {
      return new RunState.Failed(
          Reasons.DEADLINE_EXCEEDED,
          "the Job ran longer than its deadline ("
              + job.getSpec().getActiveDeadlineSeconds()
              + "s, spec.job.activeDeadlineSeconds) and was stopped"
              + suffix(result.message()),
          result);
    }
    Integer exit = terminated == null ? null : terminated.getExitCode();
    String reason = tool != Tool.CUSTOM ? RunnerExitCode.reasonFor(exit) : Reasons.MIGRATION_FAILED;
    StringBuilder message = new StringBuilder();
    if (result.failedRevision() != null && !result.failedRevision().isEmpty()) {
      message.append("revision ").append(result.failedRevision()).append(" failed");
    } else {
      message.append("the migration failed");
    }
    if (exit != null) {
      message.append(" (exit code ").append(exit).append(')');
    }
    if (result.message() != null) {
      message.append(": ").append(result.message());
    } else if (condition.getMessage() != null) {
      message.append(": ").append(Redactor.redact(condition.getMessage()));
    }
    return new RunState.Failed(reason, ResultParser.shorten(message.toString()), result);
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

  /**
   * Whether the Job has ended, by the conditions the Job controller sets (1.31+ sets the interim
   * ones first).
   */
  public static boolean finished(Job job) {
    return conditionTrue(job, "Complete")
        || conditionTrue(job, "SuccessCriteriaMet")
        || conditionTrue(job, "Failed")
        || conditionTrue(job, "FailureTarget");
  }

  static boolean conditionTrue(Job job, String type) {
    return condition(job, type).isPresent();
  }

  private static Optional<JobCondition> condition(Job job, String type) {
    if (job.getStatus() == null || job.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return job.getStatus().getConditions().stream()
        .filter(c -> type.equals(c.getType()) && "True".equals(c.getStatus()))
        .findFirst();
  }

  private static String suffix(String message) {
    return message == null || message.isBlank() ? "" : ": " + message;
  }
}
