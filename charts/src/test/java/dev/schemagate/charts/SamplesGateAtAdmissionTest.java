package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Every sample a user may copy gates its app at admission: each workload that a DatabaseMigration
 * of the sample gates (spec.gate.deployments, unless the sample chooses spec.gate.mode: Pause) is
 * shown, and its pod template carries the label schemagate.dev/migration with that
 * DatabaseMigration's name; a template that asks for a revision (schemagate.dev/requires-revision)
 * carries the label too, without which the annotation does nothing. Without the label the operator
 * pauses the Deployment instead, which has a window (docs/admission-gate.md).
 *
 * <p>The samples: the YAML blocks of README.md and of every Markdown page under docs/, examples/
 * and migrations-image/ (one sample per page, every block and document of it together); the example
 * app's manifests (one sample per directory); crds/samples/valid.yaml; the chart's docs/*.yaml; and
 * the chart's NOTES as helm renders them at install. (crds/samples/invalid holds what the CRD
 * refuses: nothing there is ever applied.)
 */
class SamplesGateAtAdmissionTest {
  static final String LABEL = "schemagate.dev/migration";
  static final String REQUIRES = "schemagate.dev/requires-revision";

  /** Workload kinds and where their pod template's metadata is. */
  static final Map<String, String> TEMPLATE_METADATA =
      Map.of(
          "Deployment", "/spec/template/metadata",
          "StatefulSet", "/spec/template/metadata",
          "DaemonSet", "/spec/template/metadata",
          "ReplicaSet", "/spec/template/metadata",
          "Job", "/spec/template/metadata",
          "CronJob", "/spec/jobTemplate/spec/template/metadata",
          "Pod", "/metadata");

  private static final Pattern FENCE = Pattern.compile("^( *)```(\\w*)\\s*$");

  /** The YAML blocks of a Markdown page, each dedented by its fence's indentation. */
  static List<String> yamlBlocks(String markdown) {
    List<String> blocks = new ArrayList<>();
    StringBuilder block = null;
    int indent = 0;
    for (String line : markdown.split("\n", -1)) {
      Matcher fence = FENCE.matcher(line);
      if (block == null) {
        if (fence.matches() && fence.group(2).equals("yaml")) {
          block = new StringBuilder();
          indent = fence.group(1).length();
        }
      } else if (fence.matches() && fence.group(2).isEmpty()) {
        blocks.add(block.toString());
        block = null;
      } else {
        int strip = 0;
        while (strip < indent && strip < line.length() && line.charAt(strip) == ' ') {
          strip++;
        }
        block.append(line.substring(strip)).append('\n');
      }
    }
    return blocks;
  }

  /** The YAML the rendered NOTES pipe to kubectl apply (its here-documents), dedented. */
  static List<String> hereDocuments(String notes) {
    List<String> docs = new ArrayList<>();
    Matcher m = Pattern.compile("(?ms)^( *)cat <<'YAML'.*?\n(.*?)^ *YAML$").matcher(notes);
    while (m.find()) {
      String indent = m.group(1);
      StringBuilder doc = new StringBuilder();
      for (String line : m.group(2).split("\n")) {
        doc.append(line.startsWith(indent) ? line.substring(indent.length()) : line).append('\n');
      }
      docs.add(doc.toString());
    }
    return docs;
  }

  /** What is wrong with one sample (its YAML texts), each line naming it and the workload. */
  static List<String> problems(String sample, List<String> texts) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    for (String text : texts) {
      docs.addAll(ChartTest.documents(text));
    }
    List<String> problems = new ArrayList<>();
    for (JsonNode doc : docs) {
      if (!isMigration(doc)) {
        continue;
      }
      JsonNode gate = doc.at("/spec/gate");
      if ("Pause".equals(gate.path("mode").asText())) {
        continue; // the sample chooses the Pause gate on purpose
      }
      String name = doc.at("/metadata/name").asText();
      for (JsonNode deployment : gate.path("deployments")) {
        String gated = deployment.asText();
        if (name.isEmpty()) {
          problems.add(
              sample
                  + ": a DatabaseMigration without a name gates Deployment "
                  + gated
                  + ": show its name and the Deployment, its pod template labelled "
                  + LABEL);
          continue;
        }
        List<JsonNode> shown =
            docs.stream()
                .filter(d -> "Deployment".equals(d.path("kind").asText()))
                .filter(d -> gated.equals(d.at("/metadata/name").asText()))
                .toList();
        if (shown.isEmpty()) {
          problems.add(
              sample
                  + ": DatabaseMigration "
                  + name
                  + " gates Deployment "
                  + gated
                  + ", which the sample does not show: show it, its pod template labelled "
                  + LABEL
                  + ": "
                  + name);
        }
        for (JsonNode d : shown) {
          String label = d.at("/spec/template/metadata/labels").path(LABEL).asText();
          if (!label.equals(name)) {
            problems.add(
                sample
                    + ": Deployment "
                    + gated
                    + ", gated by DatabaseMigration "
                    + name
                    + ", lacks "
                    + LABEL
                    + ": "
                    + name
                    + " on its pod template"
                    + (label.isEmpty() ? "" : " (it has " + label + ")"));
          }
        }
      }
    }
    for (JsonNode doc : docs) {
      String pointer = TEMPLATE_METADATA.get(doc.path("kind").asText());
      if (pointer == null) {
        continue;
      }
      JsonNode metadata = doc.at(pointer);
      if (metadata.path("annotations").has(REQUIRES) && !metadata.path("labels").has(LABEL)) {
        problems.add(
            sample
                + ": "
                + doc.path("kind").asText()
                + " "
                + doc.at("/metadata/name").asText()
                + " asks for a revision ("
                + REQUIRES
                + ") without "
                + LABEL
                + " on its pod template: nothing holds its pods");
      }
    }
    return problems;
  }

  /** A DatabaseMigration, or a fragment of one as the docs show it (a spec with a target). */
  static boolean isMigration(JsonNode doc) {
    String kind = doc.path("kind").asText();
    return kind.equals("DatabaseMigration")
        || (kind.isEmpty() && doc.at("/spec/targetRevision").isValueNode());
  }

  /** Every sample, by where it is, with its YAML texts. */
  static Map<String, List<String>> samples() throws Exception {
    Map<String, List<String>> samples = new TreeMap<>();
    List<Path> pages = new ArrayList<>(List.of(Tools.ROOT.resolve("README.md")));
    for (String dir : List.of("docs", "examples", "migrations-image")) {
      try (Stream<Path> walk = Files.walk(Tools.ROOT.resolve(dir))) {
        walk.filter(p -> p.toString().endsWith(".md"))
            .filter(p -> !p.toString().contains("/target/"))
            .sorted()
            .forEach(pages::add);
      }
    }
    for (Path page : pages) {
      samples.put(relative(page), yamlBlocks(Files.readString(page)));
    }
    try (Stream<Path> walk = Files.walk(Tools.ROOT.resolve("examples"))) {
      for (Path dir :
          walk.filter(Files::isDirectory).filter(d -> !yamlFiles(d).isEmpty()).sorted().toList()) {
        List<String> texts = new ArrayList<>();
        for (Path f : yamlFiles(dir)) {
          texts.add(Files.readString(f));
        }
        samples.put(relative(dir) + "/", texts);
      }
    }
    samples.put(
        "crds/samples/valid.yaml",
        List.of(Files.readString(Tools.ROOT.resolve("crds/samples/valid.yaml"))));
    for (Path f : yamlFiles(Tools.CHART.resolve("docs"))) {
      samples.put(relative(f), List.of(Files.readString(f)));
    }
    samples.put("charts/schemagate/templates/NOTES.txt (rendered)", hereDocuments(notes()));
    return samples;
  }

  /** The chart's NOTES, as helm install prints them. */
  static String notes() throws Exception {
    Tools.Result install =
        Tools.helm(
            "install",
            "sg",
            Tools.released().toString(),
            "--namespace",
            "ops",
            "--dry-run=client",
            // a client dry run sees no cluster: the webhook's certificate from cert-manager
            ChartTest.CERT_MANAGER[0],
            ChartTest.CERT_MANAGER[1]);
    assertThat(install.exit()).as(install.err()).isZero();
    assertThat(install.out()).contains("NOTES:");
    return install.out().substring(install.out().indexOf("NOTES:"));
  }

  private static List<Path> yamlFiles(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String relative(Path p) {
    return Tools.ROOT.relativize(p).toString();
  }

  @Test
  void everyGatedWorkloadOfEverySampleCarriesTheAdmissionLabel() throws Exception {
    Map<String, List<String>> samples = samples();
    // the samples this test is about are found (a path that moved would silently drop one)
    assertThat(samples)
        .containsKeys(
            "README.md",
            "docs/index.md",
            "docs/gitops.md",
            "examples/fastapi-alembic/k8s/",
            "crds/samples/valid.yaml",
            "charts/schemagate/docs/argocd-sync-waves.yaml");
    assertThat(samples.get("README.md")).isNotEmpty();
    assertThat(samples.get("charts/schemagate/templates/NOTES.txt (rendered)")).isNotEmpty();
    List<String> problems = new ArrayList<>();
    for (var sample : samples.entrySet()) {
      problems.addAll(problems(sample.getKey(), sample.getValue()));
    }
    assertThat(problems).as(String.join("\n", problems)).isEmpty();
  }

  /** The check itself: what it takes for gated and what it reports, on small samples. */
  @Test
  void theCheckFindsAGatedWorkloadWithoutTheLabel() throws Exception {
    String dbm =
        "apiVersion: schemagate.dev/v1alpha1\nkind: DatabaseMigration\nmetadata: {name: orders}\n"
            + "spec: {image: i, targetRevision: \"5\", gate: {deployments: [orders-api]}}\n";
    String unlabelled =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orders-api}\n"
            + "spec: {template: {metadata: {labels: {app: orders-api}}}}\n";
    String labelled =
        unlabelled.replace("app: orders-api}", "app: orders-api, " + LABEL + ": orders}");
    assertThat(problems("s", List.of(dbm + "---\n" + unlabelled)))
        .containsExactly(
            "s: Deployment orders-api, gated by DatabaseMigration orders, lacks "
                + LABEL
                + ": orders on its pod template");
    assertThat(problems("s", List.of(dbm, labelled))).isEmpty();
    assertThat(problems("s", List.of(dbm, labelled.replace(": orders}", ": billing}"))))
        .singleElement()
        .asString()
        .endsWith("on its pod template (it has billing)");
    assertThat(problems("s", List.of(dbm)))
        .containsExactly(
            "s: DatabaseMigration orders gates Deployment orders-api, which the sample does not"
                + " show: show it, its pod template labelled "
                + LABEL
                + ": orders");
    assertThat(problems("s", List.of(dbm.replace("gate: {", "gate: {mode: Pause, "), unlabelled)))
        .isEmpty();
    String asks =
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: worker}\n"
            + "spec: {template: {metadata: {annotations: {"
            + REQUIRES
            + ": \"5\"}}}}\n";
    assertThat(problems("s", List.of(asks)))
        .singleElement()
        .asString()
        .startsWith("s: StatefulSet worker asks");
    assertThat(
            yamlBlocks(
                "text\n```yaml\na: 1\n```\n\n1. step\n   ```yaml\n   b: 2\n   ```\n```sh\nc\n```\n"))
        .containsExactly("a: 1\n", "b: 2\n");
  }
}
