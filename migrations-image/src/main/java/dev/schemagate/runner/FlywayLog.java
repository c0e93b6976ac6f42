package dev.schemagate.runner;

import org.flywaydb.core.api.logging.Log;
import org.flywaydb.core.api.logging.LogCreator;

/**
 * Flyway's own log lines, through the runner's masked console; its detail only with
 * SCHEMAGATE_DEBUG.
 */
public final class FlywayLog implements LogCreator {
  @Override
  public Log createLogger(Class<?> clazz) {
    return new Log() {
      @Override
      public boolean isDebugEnabled() {
        return false;
      }

      @Override
      public void debug(String message) {
        Console.fine(message);
      }

      @Override
      public void info(String message) {
        Console.fine(message);
      }

      @Override
      public void warn(String message) {
        Console.warn(message);
      }

      @Override
      public void error(String message) {
        Console.error(message);
      }

      @Override
      public void error(String message, Exception e) {
        Console.error(message + ": " + e.getMessage());
      }

      @Override
      public void notice(String message) {
        Console.fine(message);
      }
    };
  }
}
