package dev.schemagate.operator.run;

import dev.schemagate.api.Reason;
import java.time.Duration;

/** Where a run's Job stands, as read from the Job and its pod. */
public sealed interface RunState {

  /** The Job runs (or waits to be scheduled). */
  record Running(String message) implements RunState {}

  /** The Job is gone, but a pod of the run still stops: the run is recorded once it has. */
  record Stopping(String message) implements RunState {}

  /**
   * The container cannot start (bad image, missing Secret, a root image), or its pod cannot be made
   * or placed (quota, PodSecurity, no node fits): it has run nothing yet.
   */
  record Blocked(Reason reason, String message) implements RunState {}

  /**
   * The Job finished, but its pod still runs or its result has not reached the cache yet.
   *
   * @param retryAfter when to look again if no event comes first; null when the pod's own events
   *     will tell
   */
  record AwaitingResult(Duration retryAfter) implements RunState {}

  record Succeeded(RunResult result) implements RunState {}

  record Failed(Reason reason, String message, RunResult result) implements RunState {}
}
