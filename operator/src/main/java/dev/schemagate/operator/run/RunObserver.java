package dev.schemagate.operator.run;

import dev.schemagate.api.Reason;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.Time;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a run's state from its Job, its pods and the Job controller's FailedCreate Events. Pure.
 *
 * <p>A finished Job is recorded only once nothing of the run can still change the database and its
 * result is in: while a pod of the run still runs (a Job can be marked failed before its pod
 * stopped), or while the pod's terminated state has not reached the cache ({@link #RESULT_GRACE} at
 * most), the run is awaiting its result. A Job that is gone is recorded as {@code JobDeleted}
 * (outcome unknown) once its pods have stopped too.
 */
public final class RunObserver {
  /**
   * How long a finished Job's result may lag behind its condition before it is recorded without.
   */
  public static final Duration RESULT_GRACE = Duration.ofSeconds(10);

  /** The Job controller's Event reason when it cannot create a pod. */
  public static final String FAILED_CREATE = "FailedCreate";

  private static final Set<String> PULL_FAILURES =
      Set.of("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull");

  private RunObserver() {}

  /**
   * @param jobName the run's Job
   * @param job the Job as cached, or null when there is none
   * @param pods the run's pods
   * @param failedCreates the Job controller's FailedCreate Events about this Job
   */
  public static RunState observe(
      String jobName,
      Job job,
      Collection<Pod> pods,
      Collection<Event> failedCreates,
      Tool tool,
      Instant now) {
    Optional<Pod> alive = pods.stream().filter(p -> !terminal(p)).findFirst();
    if (job == null) {
      if (alive.isPresent()) {
        return new RunState.Stopping(
            "Job "
                + jobName
                + " was deleted; waiting for its pod "
                + alive.get().getMetadata().getName()
                + " to stop");
      }
      return new RunState.Failed(
          Reason.JobDeleted,
          "Job "
              + jobName
              + " was deleted before it reported a result: the run's outcome is unknown",
          RunResult.EMPTY);
    }
    PodResult newest = PodResult.of(pods);
    Optional<Pod> pod = newest.pod();
    Optional<ContainerStatus> container = newest.container();
    Optional<ContainerStateTerminated> terminated = newest.terminated();

    Optional<JobCondition> complete =
        condition(job, "Complete").or(() -> condition(job, "SuccessCriteriaMet"));
    Optional<JobCondition> failed =
        condition(job, "Failed").or(() -> condition(job, "FailureTarget"));
    Optional<JobCondition> end = complete.or(() -> failed);
    if (end.isPresent()) {
      if (alive.isPresent()) {
        return new RunState.AwaitingResult(null);
      }
      boolean deadline = failed.map(c -> "DeadlineExceeded".equals(c.getReason())).orElse(false);
      if (terminated.isEmpty() && !deadline) {
        Instant since =
            Optional.ofNullable(end.get().getLastTransitionTime()).map(Time::parse).orElse(now);
        Duration left = RESULT_GRACE.minus(Duration.between(since, now));
        if (!left.isNegative() && !left.isZero()) {
          return new RunState.AwaitingResult(left);
        }
      }
      RunResult result =
          terminated.map(t -> ResultParser.parse(t.getMessage())).orElse(RunResult.EMPTY);
      if (complete.isPresent()) {
        if (terminated.isEmpty() || !Integer.valueOf(0).equals(terminated.get().getExitCode())) {
          // the Job controller counts any pod it controls; the result is read from its own only
          return new RunState.Failed(
              Reason.ResultMissing,
              "Job "
                  + jobName
                  + " completed, but no pod of its own (controlled by it and running what it says)"
                  + " reported success: the run's outcome is unknown, so it runs again",
              RunResult.EMPTY);
        }
        return new RunState.Succeeded(result);
      }
      return failure(job, failed.get(), terminated.orElse(null), result, tool);
    }

    if (pod.isEmpty()) {
      Optional<Event> refused =
          failedCreates.stream()
              .filter(e -> FAILED_CREATE.equals(e.getReason()))
              .max(Comparator.comparing(RunObserver::eventTime));
      if (refused.isPresent()) {
        return new RunState.Blocked(
            Reason.PodsRejected,
            "the API server refuses the migration pod of Job "
                + jobName
                + suffix(Redactor.redact(refused.get().getMessage()))
                + "; lift the limit (ResourceQuota, LimitRange, PodSecurity or a policy of namespace "
                + job.getMetadata().getNamespace()
                + ") or change spec.job (resources, runAsUser); the Job keeps trying");
      }
      return starting(jobName);
    }
    Optional<PodCondition> unschedulable =
        Optional.ofNullable(pod.get().getStatus())
            .map(s -> s.getConditions())
            .flatMap(
                cs ->
                    cs.stream()
                        .filter(
                            c ->
                                "PodScheduled".equals(c.getType())
                                    && "False".equals(c.getStatus())
                                    && "Unschedulable".equals(c.getReason()))
                        .findFirst());
    if (unschedulable.isPresent() && container.isEmpty()) {
      return new RunState.Blocked(
          Reason.PodUnschedulable,
          "no node can run the migration pod of Job "
              + jobName
              + suffix(unschedulable.get().getMessage())
              + "; change spec.job.nodeSelector, spec.job.tolerations or spec.job.resources, or"
              + " add a node that fits");
    }
    Optional<ContainerStateWaiting> waiting =
        container.map(c -> c.getState() == null ? null : c.getState().getWaiting());
    if (waiting.isPresent()) {
      String reason = waiting.get().getReason();
      String message = Redactor.redact(waiting.get().getMessage());
      if (reason != null && PULL_FAILURES.contains(reason)) {
        return new RunState.Blocked(
            Reason.ImagePullFailed,
            "image "
                + job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage()
                + " cannot be pulled ("
                + reason
                + ")"
                + suffix(message)
                + "; fix spec.image or spec.job.imagePullSecrets");
      }
      if ("CreateContainerConfigError".equals(reason)
          && nodeNotYetAuthorized(message)
          && Duration.between(createdAt(pod.get(), now), now).compareTo(RESULT_GRACE) < 0) {
        // the Node authorizer learns of a newly bound pod a moment after the kubelet does
        return starting(jobName);
      }
      if ("CreateContainerConfigError".equals(reason) && refusesRootUser(message)) {
        return new RunState.Blocked(
            Reason.NonRootUserRequired,
            "the migration container must run as a non-root user, and its image runs as root or"
                + " names its user (USER) without a number the kubelet can check"
                + suffix(message)
                + "; set spec.job.runAsUser to the numeric ID of a non-root user the image can run"
                + " as (for example 1000), or give the image a numeric non-root USER");
      }
      if ("CreateContainerConfigError".equals(reason)) {
        return new RunState.Blocked(
            Reason.SecretNotFound,
            "the migration container cannot start"
                + suffix(message)
                + "; create the Secret named in spec.database.secretRef, or fix spec.env");
      }
      if ("CreateContainerError".equals(reason) || "RunContainerError".equals(reason)) {
        return new RunState.Blocked(Reason.ContainerCreateFailed, reason + suffix(message));
      }
    }
    boolean started =
        terminated.isPresent()
            || container
                .map(c -> c.getState() != null && c.getState().getRunning() != null)
                .orElse(false);
    return started ? new RunState.Running("Job " + jobName + " is running") : starting(jobName);
  }

  /** A run whose Job has no running container yet (or was just made). */
  public static RunState.Running starting(String job) {
    return new RunState.Running("Job " + job + " is starting");
  }

  /**
   * The API server's answer to a kubelet that reads a Secret of a pod just bound to its node,
   * before the Node authorizer has seen the binding: it passes within a moment.
   */
  static boolean nodeNotYetAuthorized(String message) {
    return message != null && message.contains("no relationship found between node");
  }

  private static Instant createdAt(Pod pod, Instant now) {
    String ts = pod.getMetadata().getCreationTimestamp();
    return ts == null ? now : Time.parse(ts);
  }

  /** The kubelet's messages when runAsNonRoot meets an image that runs as root or by name. */
  static boolean refusesRootUser(String message) {
    return message != null
        && (message.contains("runAsNonRoot") || message.contains("non-root policy"));
  }

  private static RunState.Failed failure(
      Job job,
      JobCondition condition,
      ContainerStateTerminated terminated,
      RunResult result,
      Tool tool) {
    if ("DeadlineExceeded".equals(condition.getReason())) {
      return new RunState.Failed(
          Reason.DeadlineExceeded,
          "the Job ran longer than its deadline ("
              + job.getSpec().getActiveDeadlineSeconds()
              + "s, spec.job.activeDeadlineSeconds) and was stopped"
              + suffix(result.message()),
          result);
    }
    Integer exit = terminated == null ? null : terminated.getExitCode();
    Reason reason = tool != Tool.CUSTOM ? RunnerExitCode.reasonFor(exit) : Reason.MigrationFailed;
    StringBuilder message = new StringBuilder();
    if (result.failedRevision() != null && !result.failedRevision().isEmpty()) {
      message.append("revision ").append(result.failedRevision()).append(" failed");
    } else if (reason == Reason.BaselineRequired) {
      // refused before it changed anything: nothing of the migration failed
      message.append("no migration ran");
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

  /** The result the Job's newest pod left in its termination message, or null. */
  public static String terminationMessage(Collection<Pod> pods) {
    return PodResult.of(pods).message();
  }

  /** Whether the pod has stopped for good: nothing of it runs, or will run, any more. */
  public static boolean terminal(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  private static String eventTime(Event event) {
    return Objects.requireNonNullElse(
        event.getLastTimestamp(),
        Objects.requireNonNullElse(event.getMetadata().getCreationTimestamp(), ""));
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

  /**
   * Whether the Job controller has written its last condition: {@code Complete} or {@code Failed}.
   * Since 1.31 it tells {@code SuccessCriteriaMet} or {@code FailureTarget} first and goes on
   * writing the Job (its pods' finalizers, the completion time) until then.
   */
  public static boolean settled(Job job) {
    return conditionTrue(job, "Complete") || conditionTrue(job, "Failed");
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
