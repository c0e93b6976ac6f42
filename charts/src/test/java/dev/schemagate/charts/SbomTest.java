package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

/**
 * The SBOM a release attaches to each image (scripts/sbom): on a layer that holds one thing of each
 * kind it lists every one, by the package URL a scanner matches, and the same layers give the same
 * document.
 */
class SbomTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String DIGEST = "sha256:" + "e".repeat(64);

  static Path python() {
    Path python = Tools.TOOLS.resolve("python/bin/python");
    if (!Files.isExecutable(python)) {
      throw new IllegalStateException(
          python + " is missing: run bash scripts/tools (scripts/test does)");
    }
    return python;
  }

  /** A gzip'd layer of these files (path under the root, content). */
  static Path layer(Path dir, Map<String, byte[]> files) throws Exception {
    Path root = dir.resolve("root");
    if (Files.exists(root)) {
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    for (var file : files.entrySet()) {
      Path target = root.resolve(file.getKey());
      Files.createDirectories(target.getParent());
      Files.write(target, file.getValue());
    }
    Path layer = dir.resolve("layer.tar.gz");
    Files.deleteIfExists(layer);
    Files.deleteIfExists(dir.resolve("layer.tar.gz.sbom.json"));
    Tools.Result tar =
        Tools.run(List.of("tar", "-czf", layer.toString(), "-C", root.toString(), "."), null);
    assertThat(tar.exit()).as(tar.err()).isZero();
    return layer;
  }

  static byte[] jar(Map<String, String> entries) throws IOException {
    var bytes = new java.io.ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (var e : entries.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey()));
        zip.write(e.getValue().getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static JsonNode sbom(Path layer) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "SOURCE_DATE_EPOCH=1700000000",
                python().toString(),
                Tools.ROOT.resolve("scripts/sbom").toString(),
                "r.example/schemagate/runner",
                "9.8.7",
                "arm64",
                DIGEST,
                layer.toString()));
    Tools.Result run = Tools.run(command, null);
    assertThat(run.exit()).as(run.err()).isZero();
    return JSON.readTree(run.out());
  }

  static List<String> purls(JsonNode document) {
    List<String> purls = new ArrayList<>();
    document
        .path("packages")
        .forEach(
            p ->
                p.path("externalRefs")
                    .forEach(r -> purls.add(r.path("referenceLocator").asText())));
    return purls;
  }

  @Test
  void itListsWhatTheImageHoldsByPackageUrl() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "sbom").toAbsolutePath());
    Map<String, byte[]> files =
        Map.of(
            "etc/os-release",
            text("ID=debian\nVERSION_ID=\"12\"\n"),
            "var/lib/dpkg/status.d/libssl3",
            text(
                "Package: libssl3\nSource: openssl\nVersion: 3.0.17-1~deb12u2\n"
                    + "Architecture: arm64\nDescription: Secure Sockets Layer toolkit\n"
                    + " - shared libraries\n"),
            "opt/runner.jar",
            jar(
                Map.of(
                    "META-INF/maven/dev.schemagate/schemagate-runner/pom.properties",
                    "groupId=dev.schemagate\nartifactId=schemagate-runner\nversion=9.8.7\n",
                    "META-INF/schemagate/dependencies.txt",
                    "\nThe following files have been resolved:\n"
                        + "   info.picocli:picocli:jar:4.7.7:compile -- module info.picocli\n"
                        + "   org.postgresql:postgresql:jar:42.7.14:compile -- module x\n")),
            "deployments/lib/main/io.quarkus.quarkus-core-3.30.1.jar",
            jar(
                Map.of(
                    "META-INF/MANIFEST.MF",
                    "Manifest-Version: 1.0\nImplementation-Title: quarkus-core\n"
                        + "Implementation-Version: 3.30.1\n")),
            "opt/venv/lib/python3.11/site-packages/SQLAlchemy-2.0.44.dist-info/METADATA",
            text("Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: 2.0.44\n\nA description.\n"),
            "opt/jre/release",
            text(
                "IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_RUNTIME_VERSION=\"25.0.3+9-LTS\"\n"
                    + "MODULES=\"java.base java.sql\"\n"));
    JsonNode document = sbom(layer(dir, files));

    assertThat(document.path("spdxVersion").asText()).isEqualTo("SPDX-2.3");
    assertThat(document.at("/creationInfo/created").asText()).isEqualTo("2023-11-14T22:13:20Z");
    JsonNode image = document.path("packages").get(0);
    assertThat(image.path("primaryPackagePurpose").asText()).isEqualTo("CONTAINER");
    assertThat(image.at("/checksums/0/checksumValue").asText()).isEqualTo("e".repeat(64));
    assertThat(purls(document))
        .containsExactly(
            "pkg:oci/runner@sha256%3A"
                + "e".repeat(64)
                + "?arch=arm64&repository_url=r.example%2Fschemagate%2Frunner&tag=9.8.7",
            "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=arm64&distro=debian-12&upstream=openssl",
            "pkg:maven/dev.schemagate/schemagate-runner@9.8.7",
            "pkg:maven/info.picocli/picocli@4.7.7",
            "pkg:maven/io.quarkus/quarkus-core@3.30.1",
            "pkg:maven/org.postgresql/postgresql@42.7.14",
            "pkg:pypi/sqlalchemy@2.0.44");
    JsonNode runtime = document.path("packages").get(2);
    assertThat(runtime.path("name").asText()).isEqualTo("Java runtime (jlink)");
    assertThat(runtime.path("versionInfo").asText()).isEqualTo("25.0.3+9-LTS");
    assertThat(runtime.path("supplier").asText()).isEqualTo("Organization: Eclipse Adoptium");
    assertThat(runtime.path("comment").asText()).contains("java.base java.sql");
    // the image CONTAINS each of them
    assertThat(document.path("relationships").findValuesAsText("relationshipType"))
        .containsExactly(
            "DESCRIBES",
            "CONTAINS",
            "CONTAINS",
            "CONTAINS",
            "CONTAINS",
            "CONTAINS",
            "CONTAINS",
            "CONTAINS");

    // the same layer, its findings cached or not, gives the same document
    assertThat(sbom(dir.resolve("layer.tar.gz"))).isEqualTo(document);
    assertThat(sbom(layer(dir, files))).isEqualTo(document);
  }

  @Test
  void aJarWithNoCoordinatesIsListedByItsFileName() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "sbom-plain").toAbsolutePath());
    JsonNode document =
        sbom(layer(dir, Map.of("opt/lib/thing.jar", jar(Map.of("thing/A.class", "x")))));
    JsonNode thing = document.path("packages").get(1);
    assertThat(thing.path("name").asText()).isEqualTo("thing");
    assertThat(thing.path("packageFileName").asText()).isEqualTo("/opt/lib/thing.jar");
    assertThat(thing.path("comment").asText()).isEqualTo("a jar with no Maven coordinates in it");
    assertThat(thing.has("externalRefs")).isFalse();
  }
}
