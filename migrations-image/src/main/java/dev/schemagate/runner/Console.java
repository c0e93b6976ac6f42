package dev.schemagate.runner;

import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * Log lines on stderr (stdout is kept for the JSON of info), every one masked. Debug lines are
 * written once the runner has read SCHEMAGATE_DEBUG from its environment.
 */
public final class Console {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private static final PrintStream ERR = System.err;
  private static volatile boolean debug = false;

  private Console() {}

  /** Whether debug lines are written; set once, by the runner, from its environment. */
  static void debug(boolean on) {
    debug = on;
  }

  public static void info(String message) {
    ERR.println(TIME.format(LocalTime.now()) + " " + Secrets.mask(message));
  }

  public static void warn(String message) {
    info("WARN " + message);
  }

  public static void error(String message) {
    info("ERROR " + message);
  }

  public static void fine(String message) {
    if (debug) {
      info("DEBUG " + message);
    }
  }
}
