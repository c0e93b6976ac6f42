package dev.schemagate.operator.run;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Direction;
import dev.schemagate.api.Tool;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The container command and arguments each tool runs. */
public final class ToolCommand {
  /**
   * Runs the image's own {@code alembic} from its working directory, then writes the revisions and
   * the migrations it ran (from Alembic's "Running upgrade a -> b, description" lines) as the
   * result JSON; on failure, the failing revision and Alembic's last line. See alembic-run.sh.
   */
  static final String ALEMBIC_SCRIPT = resource("alembic-run.sh");

  private ToolCommand() {}

  /** The container's command; null keeps the image's entrypoint. */
  public static List<String> command(DatabaseMigrationSpec spec) {
    return switch (spec.getTool()) {
      case FLYWAY -> null;
      case ALEMBIC -> List.of("/bin/sh", "-c", ALEMBIC_SCRIPT);
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

  private static String resource(String name) {
    try (InputStream in = ToolCommand.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("missing resource " + name, e);
    }
  }
}
