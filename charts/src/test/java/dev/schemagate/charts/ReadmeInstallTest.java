package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * README.md's install command, run as written against a registry the chart was published to with
 * the release's command (scripts/chart push): it finds the chart at the version it names, and the
 * chart runs the operator's image by digest with no value set. The registry is crane's, on
 * loopback; helm renders instead of installing (no cluster here: the end-to-end suite installs).
 */
class ReadmeInstallTest {
  static final ObjectMapper YAML = new YAMLMapper();

  /** README.md's `helm install ... oci://REGISTRY/...` command and its continuation lines. */
  static final Pattern INSTALL =
      Pattern.compile("(?m)^helm install schemagate oci://REGISTRY/(?:.*\\\\\\n)*.*$");

  static final String OPERATOR_DIGEST = "sha256:" + "f".repeat(64);

  /** The README's `helm install ... oci://REGISTRY/...` command, its continuation lines joined. */
  static List<String> readmeInstall() throws IOException {
    String readme = Files.readString(Tools.ROOT.resolve("README.md"));
    Matcher m = INSTALL.matcher(readme);
    assertThat(m.find()).as("README.md installs from oci://REGISTRY/...").isTrue();
    return Arrays.asList(m.group().replace("\\\n", " ").trim().split("\\s+"));
  }

  /** The release page gives the README's command, with the release's registry and version. */
  @Test
  void theReleasePageGivesTheReadmesCommand() throws Exception {
    String readme = Files.readString(Tools.ROOT.resolve("README.md"));
    Matcher m = INSTALL.matcher(readme);
    assertThat(m.find()).isTrue();
    String release = Files.readString(Tools.ROOT.resolve(".github/workflows/release.yml"));
    for (String line : m.group().split("\n")) {
      String echoed =
          line.replace("REGISTRY", "$REGISTRY")
              .replace("--version " + chartVersion(), "--version $SCHEMAGATE_VERSION")
              .replace("\\", "\\\\");
      assertThat(release).contains("echo \"" + echoed + "\"");
    }
  }

  static String chartVersion() throws IOException {
    Matcher m =
        Pattern.compile("(?m)^version:\\s*\"?([^\"\\s]+)")
            .matcher(Files.readString(Tools.CHART.resolve("Chart.yaml")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void theReadmesCommandInstallsThePublishedChart() throws Exception {
    List<String> command = readmeInstall();
    assertThat(command)
        .containsSubsequence("--version", chartVersion())
        .contains("--namespace", "schemagate-system");

    int port = freePort();
    String registry = "127.0.0.1:" + port;
    Path crane = Tools.TOOLS.resolve("bin/crane");
    assertThat(crane).as("%s is missing: run bash scripts/tools", crane).isExecutable();
    Path work = Files.createDirectories(Path.of("target", "readme-install").toAbsolutePath());
    Path list = Tools.TOOLS.resolve("images/" + registry + ".txt");
    Process served =
        new ProcessBuilder(crane.toString(), "registry", "serve", "--address", registry)
            .redirectErrorStream(true)
            .redirectOutput(work.resolve("registry.log").toFile())
            .start();
    try {
      awaitListening(port);
      // what scripts/images index leaves for scripts/chart push: the operator's index
      Files.createDirectories(list.getParent());
      Files.writeString(
          list,
          "operator "
              + registry
              + "/schemagate/operator:9.8.7@"
              + OPERATOR_DIGEST
              + "\nalembic-kit "
              + registry
              + "/schemagate/alembic-kit:9.8.7@sha256:"
              + "e".repeat(64)
              + "\n");
      List<String> env =
          List.of(
              "env",
              "HELM_CONFIG_HOME=" + work.resolve("config"),
              "HELM_CACHE_HOME=" + work.resolve("cache"),
              "HELM_DATA_HOME=" + work.resolve("data"));
      List<String> push = new ArrayList<>(env);
      push.addAll(
          List.of(
              "bash",
              Tools.ROOT.resolve("scripts/chart").toString(),
              "push",
              registry,
              "--plain-http"));
      Tools.Result pushed = Tools.run(push, null);
      assertThat(pushed.exit()).as(pushed.err()).isZero();
      assertThat(pushed.out().strip())
          .matches(
              Pattern.quote("oci://" + registry + "/charts/schemagate:" + chartVersion() + "@")
                  + "sha256:[0-9a-f]{64}");

      // the README's command as a user runs it, rendered: its registry, helm template for install
      List<String> run = new ArrayList<>(env);
      run.add(Tools.helm().toString());
      for (String word : command.subList(1, command.size())) {
        run.add(word.equals("install") ? "template" : word.replace("REGISTRY", registry));
      }
      run.add("--plain-http");
      // helm install makes the webhook's CA where it sees the cluster; helm template sees none
      run.addAll(List.of(ChartTest.CERT_MANAGER));
      Tools.Result rendered = Tools.run(run, null);
      assertThat(rendered.exit()).as(rendered.err()).isZero();
      JsonNode deployment =
          ChartTest.documents(rendered.out()).stream()
              .filter(d -> d.path("kind").asText().equals("Deployment"))
              .findFirst()
              .orElseThrow();
      assertThat(deployment.at("/metadata/namespace").asText()).isEqualTo("schemagate-system");
      assertThat(deployment.at("/spec/template/spec/containers/0/image").asText())
          .isEqualTo(registry + "/schemagate/operator@" + OPERATOR_DIGEST);
    } finally {
      Files.deleteIfExists(list);
      Files.deleteIfExists(list.resolveSibling(registry + ".chart"));
      served.destroy();
      served.waitFor();
    }
  }

  static void awaitListening(int port) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (true) {
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return;
      } catch (IOException e) {
        if (Instant.now().isAfter(deadline)) {
          throw new IllegalStateException("crane registry serve is not listening on " + port, e);
        }
        Thread.sleep(100);
      }
    }
  }
}
