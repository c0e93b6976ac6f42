package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator's packages form layers, each using only the ones below it: no arrow runs back up.
 * The API (dev.schemagate.api) is the CR model and uses none of them.
 */
class PackageLayersTest {
  /** Bottom first. */
  static final List<String> LAYERS =
      List.of(
          "api",
          "operator.base",
          "operator.gate",
          "operator.run",
          "operator.plan",
          "operator.status",
          "operator.reconcile",
          "operator.kube",
          "operator");

  static final Pattern PACKAGE =
      Pattern.compile("^package dev\\.schemagate\\.([\\w.]+);", Pattern.MULTILINE);
  static final Pattern IMPORT =
      Pattern.compile(
          "^import (?:static )?dev\\.schemagate\\.([a-z.]+)\\.[A-Z]", Pattern.MULTILINE);

  @Test
  void eachPackageUsesOnlyTheLayersBelowIt() throws IOException {
    List<String> upward = new ArrayList<>();
    try (Stream<Path> files = Files.walk(Path.of("src", "main", "java", "dev", "schemagate"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String source = Files.readString(file);
        Matcher pkg = PACKAGE.matcher(source);
        assertThat(pkg.find()).as(file.toString()).isTrue();
        int layer = LAYERS.indexOf(pkg.group(1));
        assertThat(layer).as("%s is in a known layer", file).isNotNegative();
        Matcher imported = IMPORT.matcher(source);
        while (imported.find()) {
          int used = LAYERS.indexOf(imported.group(1));
          if (used >= layer) {
            upward.add(file.getFileName() + " (" + pkg.group(1) + ") uses " + imported.group(1));
          }
        }
      }
    }
    assertThat(upward).isEmpty();
  }
}
