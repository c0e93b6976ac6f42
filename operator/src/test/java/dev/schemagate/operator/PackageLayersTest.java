package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.GateMode;
import dev.schemagate.operator.plan.MigrationPolicy;
import dev.schemagate.operator.reconcile.Pipeline;
import dev.schemagate.operator.run.JobDefaults;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator's packages form layers, each using only the ones below it: no arrow runs back up.
 * The API (dev.schemagate.api) is the CR model and uses none of them. Within the reconcile, the
 * steps are peers of one pipeline.
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

  static final Path STEPS =
      Path.of("src", "main", "java", "dev", "schemagate", "operator", "reconcile");
  static final Pattern COMMENT = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);
  static final Pattern IS_STEP = Pattern.compile("\\bclass (\\w+) implements Step\\b");

  /** The steps of the reconcile, by class name, with the code of each (its comments left out). */
  static Map<String, String> steps() throws IOException {
    Map<String, String> steps = new TreeMap<>();
    try (Stream<Path> files = Files.list(STEPS)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        String code = COMMENT.matcher(Files.readString(file)).replaceAll(" ");
        Matcher step = IS_STEP.matcher(code);
        if (step.find()) {
          steps.put(step.group(1), code);
        }
      }
    }
    return steps;
  }

  /**
   * The steps are peers: each depends on the reconcile's state and on the layers below, never on
   * another step, so that what a step does is read in that step, and their order in {@link
   * Pipeline} is the only order there is.
   */
  @Test
  void noStepUsesAnotherStep() throws IOException {
    Map<String, String> steps = steps();
    assertThat(steps).containsKeys("FollowJobs", "PlanRun", "ComposeStatus", "HeedRefusals");
    List<String> uses = new ArrayList<>();
    steps.forEach(
        (step, code) -> {
          for (String other : steps.keySet()) {
            if (!other.equals(step)
                && Pattern.compile("\\b" + other + "\\b").matcher(code).find()) {
              uses.add(step + " uses " + other);
            }
          }
        });
    assertThat(uses).isEmpty();
  }

  /** Every step is in the pipeline, once: the reconciler and the tests run all of them. */
  @Test
  void everyStepIsInThePipelineOnce() throws IOException {
    List<String> pipeline =
        new Pipeline(MigrationPolicy.DEFAULTS, JobDefaults.STANDARD, GateMode.Pause)
            .steps().stream().map(step -> step.getClass().getSimpleName()).toList();
    assertThat(pipeline).containsExactlyInAnyOrderElementsOf(steps().keySet());
  }
}
