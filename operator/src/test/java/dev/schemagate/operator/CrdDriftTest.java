package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** crds/ holds the CRD the build generates from the Java types, byte for byte. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class CrdDriftTest {
  static final String FILE = "databasemigrations.schemagate.dev-v1.yml";

  @Test
  void committedCrdIsTheGeneratedOne() throws Exception {
    Path generated = Path.of("target", "kubernetes", FILE);
    Path committed = Path.of("..", "crds", FILE);
    assertThat(Files.readString(committed))
        .as(
            "crds/%s differs from the CRD generated from the Java types: cp operator/%s crds/",
            FILE, generated)
        .isEqualTo(Files.readString(generated));
  }
}
