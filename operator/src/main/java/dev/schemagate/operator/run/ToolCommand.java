package dev.schemagate.operator.run;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Tool;
import java.util.List;

/** The container command and arguments each tool runs. */
public final class ToolCommand {
  private ToolCommand() {}

  /** The container's command; null keeps the image's entrypoint. */
  public static List<String> command(DatabaseMigrationSpec spec) {
    return switch (spec.getTool()) {
      case FLYWAY -> null;
      // the Alembic kit's command (AlembicKit): it runs the image's own alembic from the image's
      // working directory, then writes the result
      case ALEMBIC -> AlembicKit.COMMAND;
      case CUSTOM -> List.copyOf(spec.getCommand());
    };
  }

  /** The container's arguments. */
  public static List<String> args(DatabaseMigrationSpec spec, Direction direction, String target) {
    if (spec.getTool() == Tool.FLYWAY
        && (direction == Direction.PLAN || direction == Direction.CHECK)) {
      return null; // the runner's Job contract: SCHEMAGATE_DIRECTION=plan or check
    }
    if (spec.getTool() == Tool.FLYWAY) {
      return List.of(direction == Direction.DOWNGRADE ? "undo" : "migrate", "--target", target);
    }
    return null;
  }
}
