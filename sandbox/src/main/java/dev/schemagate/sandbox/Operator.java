package dev.schemagate.sandbox;

/** The schemagate operator as the sandbox runs it: a process of its own, or the chart's pods. */
public interface Operator extends AutoCloseable {
  /** Starts it (again) and returns once it reconciles. */
  Operator start() throws Exception;

  /** Stops it at once, as a node failure or an OOM kill would, and leaves it stopped. */
  void kill() throws Exception;

  boolean isAlive();

  /** Its log, every replica and every restart of it. */
  String log();

  /** The process id of the one that reconciles. */
  long pid();

  @Override
  void close() throws Exception;
}
