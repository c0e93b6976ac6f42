package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.Sandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The sets every peer applies, and the runner image of each (FROM the runner, the set's SQL in
 * /migrations), built once and shared by the peers that run it.
 */
public final class MigrationSets {
  private static final Map<String, String> IMAGES = new ConcurrentHashMap<>();

  private MigrationSets() {}

  /**
   * The example's 4 (migrations-image/examples/app_user, its V files: the U files undo them), and
   * {@code generated} Flyway-named files of a table and an index each.
   */
  static List<MigrationSet> make(Path home, Path dir, int generated) throws IOException {
    Path example = Files.createDirectories(dir.resolve("example"));
    int count = 0;
    try (Stream<Path> files = Files.list(home.resolve("migrations-image/examples/app_user"))) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith("V")).toList()) {
        Files.copy(f, example.resolve(f.getFileName()));
        count++;
      }
    }
    Path many = Files.createDirectories(dir.resolve("generated"));
    for (int i = 1; i <= generated; i++) {
      Files.writeString(
          many.resolve("V" + i + "__table_" + i + ".sql"),
          "CREATE TABLE t"
              + i
              + " (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT"
              + " now());\nCREATE INDEX t"
              + i
              + "_name ON t"
              + i
              + " (name);\n");
    }
    return List.of(
        new MigrationSet("example", example, count),
        new MigrationSet("generated", many, generated));
  }

  /** The runner image holding the set's SQL (built on first use). */
  public static synchronized String runnerImage(Sandbox sandbox, MigrationSet set)
      throws IOException, InterruptedException {
    String image = IMAGES.get(set.name());
    if (image == null) {
      image = sandbox.runnerImage("bench/migrations-" + set.name() + ":1", set.sqlDir());
      IMAGES.put(set.name(), image);
    }
    return image;
  }
}
