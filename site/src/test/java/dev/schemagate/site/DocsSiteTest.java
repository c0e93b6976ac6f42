package dev.schemagate.site;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The documentation a newcomer walks: README.md is the front door (short, every link resolving,
 * every page of docs/ reachable from it), docs/ builds as a site with MkDocs in strict mode, and
 * the configuration reference names every chart value and every field of a DatabaseMigration.
 */
class DocsSiteTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path DOCS = ROOT.resolve("docs");
  static final Path README = ROOT.resolve("README.md");
  static final ObjectMapper YAML = new YAMLMapper();
  static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$", Pattern.MULTILINE);
  static final Pattern FENCE = Pattern.compile("^```.*?^```", Pattern.MULTILINE | Pattern.DOTALL);

  static List<Path> pages() throws IOException {
    try (Stream<Path> files = Files.list(DOCS)) {
      return files.filter(f -> f.toString().endsWith(".md")).sorted().toList();
    }
  }

  @Test
  void theSiteBuildsInStrictMode() throws Exception {
    Path mkdocs = ROOT.resolve(".tools/docs/bin/mkdocs");
    assertThat(mkdocs)
        .as("%s is missing: run bash scripts/tools (scripts/test does)", mkdocs)
        .isExecutable();
    Path site = Path.of("target", "site").toAbsolutePath();
    Path log = Files.createTempFile("mkdocs", ".log");
    Process build =
        new ProcessBuilder(
                mkdocs.toString(),
                "build",
                "--strict",
                "--clean",
                "--config-file",
                ROOT.resolve("mkdocs.yml").toString(),
                "--site-dir",
                site.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    assertThat(build.waitFor(120, TimeUnit.SECONDS)).as("mkdocs build ended").isTrue();
    String output = Files.readString(log);
    assertThat(build.exitValue()).as(output).isZero();
    assertThat(output).doesNotContain("WARNING");
    for (Path page : pages()) {
      String name = page.getFileName().toString().replace(".md", "");
      Path html =
          name.equals("index") ? site.resolve("index.html") : site.resolve(name + "/index.html");
      assertThat(html).as("the site has %s", page.getFileName()).exists();
    }
    assertThat(Files.readString(site.resolve("operations/index.html")))
        .contains("id=\"schemagatenoleader\"");
  }

  @Test
  void theReadmeIsAShortFrontDoorFromWhichEveryPageIsReachable() throws IOException {
    String readme = Files.readString(README);
    assertThat(readme.lines().count()).as("README.md lines").isLessThan(250);
    assertThat(brokenLinks(README)).as("links of README.md that lead nowhere").isEmpty();
    Set<String> linked = new TreeSet<>();
    for (Path target : linkedFiles(README)) {
      if (target.startsWith(DOCS)) {
        linked.add(target.getFileName().toString());
      }
    }
    List<String> all = pages().stream().map(p -> p.getFileName().toString()).toList();
    assertThat(linked).as("pages of docs/ linked from README.md").containsAll(all);
  }

  /** The benchmarks' table links each figure to the round that measured it, by its heading. */
  @Test
  void theBenchmarksLinksLeadToTheirRounds() throws IOException {
    for (Path file : List.of(ROOT.resolve("bench/README.md"), ROOT.resolve("bench/rounds.md"))) {
      assertThat(brokenLinks(file)).as("links of %s that lead nowhere", file).isEmpty();
    }
  }

  static List<String> links(Path markdown) throws IOException {
    List<String> links = new ArrayList<>();
    Matcher link = LINK.matcher(FENCE.matcher(Files.readString(markdown)).replaceAll(""));
    while (link.find()) {
      String target = link.group(1);
      if (!target.startsWith("http://") && !target.startsWith("https://")) {
        links.add(target);
      }
    }
    return links;
  }

  static List<Path> linkedFiles(Path markdown) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String target : links(markdown)) {
      String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
      files.add(markdown.getParent().resolve(file).normalize());
    }
    return files;
  }

  /** Relative links to a file that does not exist, or to a heading it does not have. */
  static List<String> brokenLinks(Path markdown) throws IOException {
    List<String> broken = new ArrayList<>();
    for (String target : links(markdown)) {
      String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
      Path resolved = file.isEmpty() ? markdown : markdown.getParent().resolve(file).normalize();
      if (!Files.exists(resolved)) {
        broken.add(target);
      } else if (target.contains("#")
          && !anchors(Files.readString(resolved))
              .contains(target.substring(target.indexOf('#') + 1))) {
        broken.add(target);
      }
    }
    return broken;
  }

  /** GitHub's anchors of a Markdown file's headings (lower case, punctuation dropped). */
  static Set<String> anchors(String markdown) {
    Set<String> anchors = new TreeSet<>();
    Matcher heading = HEADING.matcher(FENCE.matcher(markdown).replaceAll(""));
    while (heading.find()) {
      anchors.add(
          heading
              .group(1)
              .strip()
              .toLowerCase(Locale.ROOT)
              .replaceAll("[^\\p{L}\\p{N} _-]", "")
              .replace(' ', '-'));
    }
    return anchors;
  }

  @Test
  void theConfigurationReferenceNamesEveryChartValueAndEveryField() throws IOException {
    String reference = Files.readString(DOCS.resolve("configuration.md"), StandardCharsets.UTF_8);
    List<String> missing = new ArrayList<>();
    leaves(YAML.readTree(ROOT.resolve("charts/schemagate/values.yaml").toFile()), "", missing);
    missing.removeIf(key -> named(reference, key));
    JsonNode spec =
        YAML.readTree(ROOT.resolve("crds/databasemigrations.schemagate.dev-v1.yml").toFile())
            .at("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties");
    for (Iterator<Map.Entry<String, JsonNode>> fields = spec.fields(); fields.hasNext(); ) {
      Map.Entry<String, JsonNode> field = fields.next();
      String path = "spec." + field.getKey();
      if (!reference.contains("`" + path + "`")) {
        missing.add(path);
      }
      if (!field.getKey().equals("env")) {
        field
            .getValue()
            .path("properties")
            .fieldNames()
            .forEachRemaining(
                sub -> {
                  if (!reference.contains("`" + path + "." + sub + "`")) {
                    missing.add(path + "." + sub);
                  }
                });
      }
    }
    assertThat(missing).as("named nowhere in docs/configuration.md").isEmpty();
  }

  /** The keys of values.yaml that hold a value that is not a map. */
  static void leaves(JsonNode node, String path, List<String> into) {
    if (node.isObject() && !node.isEmpty()) {
      node.fields()
          .forEachRemaining(
              f ->
                  leaves(
                      f.getValue(), path.isEmpty() ? f.getKey() : path + "." + f.getKey(), into));
    } else {
      into.add(path);
    }
  }

  /**
   * The key is named, or a map value holding it is, with its default (resources for
   * resources.limits.memory).
   */
  static boolean named(String reference, String key) {
    if (reference.contains("`" + key + "`")) {
      return true;
    }
    for (String prefix = key; prefix.contains("."); ) {
      prefix = prefix.substring(0, prefix.lastIndexOf('.'));
      if (reference.contains("| `" + prefix + "` | `")) {
        return true;
      }
    }
    return false;
  }
}
