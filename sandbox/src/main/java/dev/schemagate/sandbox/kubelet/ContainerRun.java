package dev.schemagate.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * One container of a pod on the sandbox's node: its process, its state as the kubelet reports it
 * (waiting, running, terminated), its restarts, its log and its termination-message file.
 */
final class ContainerRun {

  final Container spec;
  final Path log;
  final Path previousLog;
  final Path terminationLog;
  Process process;

  /** The simulated container's end, when the image is simulated. */
  java.util.concurrent.ScheduledFuture<?> simulated;

  String imageId = "";
  String containerId = "";
  String waitingReason = "ContainerCreating";
  String waitingMessage;
  Instant startedAt;
  ContainerState terminated;
  ContainerState lastTerminated;
  int restartCount;
  int pullFailures;
  Instant nextAttempt = Instant.EPOCH;

  /** Ended and will not be started again (restart policy, or the pod is being deleted). */
  boolean done;

  /** How many times it was started: a probe loop belongs to one start. */
  int starts;

  /** The startup probe passed (or there is none). */
  boolean startupPassed = true;

  /** The readiness probe passes (or there is none). */
  boolean probedReady = true;

  ContainerRun(Container spec, Path dir) {
    this.spec = spec;
    this.log = dir.resolve(spec.getName() + ".log");
    this.previousLog = dir.resolve(spec.getName() + ".previous.log");
    this.terminationLog = dir.resolve(spec.getName() + ".termination-log");
  }

  boolean running() {
    return (process != null && process.isAlive()) || (simulated != null && !simulated.isDone());
  }

  void waiting(String reason, String message) {
    waitingReason = reason;
    waitingMessage = message;
  }

  /** Running, started and passing its readiness probe. */
  boolean ready() {
    return running() && startupPassed && probedReady;
  }

  /** Before a (re)start: the last log becomes the previous one, the result file is emptied. */
  void prepareStart() throws IOException {
    if (Files.exists(log)) {
      Files.move(log, previousLog, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Files.deleteIfExists(terminationLog);
    Files.createFile(terminationLog);
  }

  void running(Instant at, String containerId) {
    this.starts++;
    this.startupPassed = spec.getStartupProbe() == null;
    this.probedReady = spec.getReadinessProbe() == null;
    this.startedAt = at;
    this.containerId = containerId;
    if (terminated != null) {
      lastTerminated = terminated;
    }
    terminated = null;
    waitingReason = null;
    waitingMessage = null;
  }

  /** The process ended: its terminated state, with the message the termination policy gives. */
  void exited(int exitCode, Instant at) {
    String message =
        TerminationMessage.read(terminationLog, log, exitCode, spec.getTerminationMessagePolicy());
    terminated =
        new ContainerStateBuilder()
            .withNewTerminated()
            .withExitCode(exitCode)
            .withReason(exitCode == 0 ? "Completed" : "Error")
            .withMessage(message.isEmpty() ? null : message)
            .withStartedAt(time(startedAt))
            .withFinishedAt(time(at))
            .withContainerID(containerId)
            .endTerminated()
            .build();
    process = null;
    simulated = null;
  }

  ContainerStatus status() {
    ContainerState state;
    ContainerState last;
    if (running()) {
      state =
          new ContainerStateBuilder()
              .withNewRunning()
              .withStartedAt(time(startedAt))
              .endRunning()
              .build();
      last = lastTerminated;
    } else if (done && terminated != null) {
      state = terminated;
      last = lastTerminated;
    } else {
      state =
          new ContainerStateBuilder()
              .withNewWaiting()
              .withReason(waitingReason)
              .withMessage(waitingMessage)
              .endWaiting()
              .build();
      last = terminated != null ? terminated : lastTerminated;
    }
    return new ContainerStatusBuilder()
        .withName(spec.getName())
        .withImage(spec.getImage())
        .withImageID(imageId)
        .withContainerID(containerId.isEmpty() ? null : containerId)
        .withReady(ready())
        .withStarted(running() && startupPassed)
        .withRestartCount(restartCount)
        .withState(state)
        .withLastState(last == null ? new ContainerState() : last)
        .build();
  }

  /** Kubernetes' time format: RFC 3339 in whole seconds. */
  static String time(Instant at) {
    return at == null ? null : at.truncatedTo(ChronoUnit.SECONDS).toString();
  }
}
