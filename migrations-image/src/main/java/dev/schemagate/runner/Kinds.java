package dev.schemagate.runner;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.flywaydb.core.api.MigrationInfo;

/**
 * The kind of a versioned migration: {@code expand} (the default: it adds, and the app version
 * before it runs on the schema it leaves) or {@code contract} (it removes or renames what an older
 * app version needs). A SQL script is a contract migration when its name ends in {@code
 * .contract.sql} ({@code V6__drop_user_name.contract.sql}) or when a line {@code --
 * schemagate:contract} stands among the comments it starts with.
 */
final class Kinds {
  static final String EXPAND = "expand";
  static final String CONTRACT = "contract";

  /** The suffix of a contract script, which Flyway is told of so that its description stays. */
  static final String CONTRACT_SUFFIX = ".contract.sql";

  private static final Pattern MARKER =
      Pattern.compile("^--\\s*schemagate:\\s*contract\\s*$", Pattern.CASE_INSENSITIVE);

  /** How many lines the leading comments are read for the marker. */
  private static final int HEAD_LINES = 50;

  /** A migration the run held back, or would apply, with its kind. */
  record Held(String revision, String description, String kind) {}

  private Kinds() {}

  /** The kind of a migration (a Java or classpath migration is an expand migration). */
  static String of(MigrationInfo migration) {
    String script = migration.getScript();
    if (script != null && script.toLowerCase(Locale.ROOT).endsWith(CONTRACT_SUFFIX)) {
      return CONTRACT;
    }
    String location = migration.getPhysicalLocation();
    if (location == null || location.isBlank()) {
      return EXPAND;
    }
    return hasMarker(Path.of(location)) ? CONTRACT : EXPAND;
  }

  /** Whether the comments a script starts with hold the marker line. */
  static boolean hasMarker(Path script) {
    if (!Files.isRegularFile(script)) {
      return false;
    }
    try (BufferedReader in = Files.newBufferedReader(script, StandardCharsets.UTF_8)) {
      for (int i = 0; i < HEAD_LINES; i++) {
        String line = in.readLine();
        if (line == null) {
          return false;
        }
        String text = line.strip();
        if (text.isEmpty()) {
          continue;
        }
        if (!text.startsWith("--")) {
          return false; // the first statement: the leading comments have ended
        }
        if (MARKER.matcher(text).matches()) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION, "cannot read " + script + ": " + e.getMessage());
    }
  }

  /**
   * The migrations of a pending list from the first contract migration on: what a run that holds
   * the contract part back leaves pending. Empty when none of them is a contract migration.
   */
  static List<Held> fromFirstContract(List<MigrationInfo> pending) {
    List<Held> held = new ArrayList<>();
    for (MigrationInfo m : pending) {
      if (m.getVersion() == null) {
        continue;
      }
      String kind = of(m);
      if (held.isEmpty() && !CONTRACT.equals(kind)) {
        continue;
      }
      held.add(new Held(m.getVersion().getVersion(), m.getDescription(), kind));
    }
    return held;
  }
}
