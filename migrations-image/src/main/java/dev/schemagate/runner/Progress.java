package dev.schemagate.runner;

import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/** One log line per migration as it runs, and which migration is under way (for failures). */
final class Progress implements Callback {
  private volatile String current;
  private volatile long startedNanos;

  String current() {
    return current;
  }

  @Override
  public boolean supports(Event event, Context context) {
    return event == Event.BEFORE_EACH_MIGRATE
        || event == Event.AFTER_EACH_MIGRATE
        || event == Event.AFTER_EACH_MIGRATE_ERROR;
  }

  @Override
  public boolean canHandleInTransaction(Event event, Context context) {
    return true;
  }

  @Override
  public void handle(Event event, Context context) {
    MigrationInfo info = context.getMigrationInfo();
    String name =
        info == null
            ? "?"
            : (info.getVersion() == null ? "" : info.getVersion() + " ") + info.getDescription();
    switch (event) {
      case BEFORE_EACH_MIGRATE -> {
        current = info == null || info.getVersion() == null ? null : info.getVersion().getVersion();
        startedNanos = System.nanoTime();
      }
      case AFTER_EACH_MIGRATE -> {
        Console.info(
            "applied   " + name + " (" + (System.nanoTime() - startedNanos) / 1_000_000 + " ms)");
        current = null;
      }
      default ->
          Console.error(
              "failed    "
                  + name
                  + " after "
                  + (System.nanoTime() - startedNanos) / 1_000_000
                  + " ms; its transaction is rolled back");
    }
  }

  @Override
  public String getCallbackName() {
    return "schemagate-progress";
  }
}
