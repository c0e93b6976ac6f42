package dev.schemagate.operator.run;

/** Where a run's Job stands, as read from the Job and its pod. */
public sealed interface RunState {

  /** The Job runs (or waits to be scheduled). */
  record Running(String message) implements RunState {}

  /** The container cannot start (bad image, missing Secret): it has run nothing yet. */
  record Blocked(String reason, String message) implements RunState {}

  /** The Job finished; the pod's result has not reached the cache yet. */
  record AwaitingResult() implements RunState {}

  record Succeeded(RunResult result) implements RunState {}

  record Failed(String reason, String message, RunResult result) implements RunState {}
}
