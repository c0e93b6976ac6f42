package dev.schemagate.sandbox.kubelet;

import java.util.stream.Stream;

/** Signals to a container's process tree (a shell and what it started): SIGTERM, SIGKILL. */
final class Processes {
  private Processes() {}

  static void terminate(Process process) {
    if (process != null && process.isAlive()) {
      tree(process).forEach(ProcessHandle::destroy);
    }
  }

  static void kill(Process process) {
    if (process != null && process.isAlive()) {
      tree(process).forEach(ProcessHandle::destroyForcibly);
    }
  }

  private static Stream<ProcessHandle> tree(Process process) {
    return Stream.concat(process.descendants().toList().stream(), Stream.of(process.toHandle()));
  }
}
