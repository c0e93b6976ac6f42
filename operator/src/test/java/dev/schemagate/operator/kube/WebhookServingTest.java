package dev.schemagate.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The operator as the chart runs it with the webhook on (SCHEMAGATE_WEBHOOK_ENABLED and the
 * certificate's files): reviews are answered over HTTPS on the webhook's port, and the plain HTTP
 * port, which serves metrics and health, has no /mutate-pods.
 */
@QuarkusTest
@TestProfile(WebhookServingTest.WebhookOn.class)
@WithKubernetesTestServer(crud = true)
class WebhookServingTest {
  static final int PORT = freePort();
  static final Path DIR = tempDir();

  static Path tempDir() {
    try {
      return Files.createTempDirectory("webhook-tls");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The settings the chart gives a replica, with a certificate made for the test. */
  public static class WebhookOn implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      try {
        WebhookServerTest.certificate(DIR.resolve("v1"), "first.example");
        WebhookServerTest.mount(DIR, "v1");
        Path dir = DIR;
        return Map.of(
            "schemagate.webhook-enabled", "true",
            "schemagate.webhook-port", String.valueOf(PORT),
            "schemagate.webhook-cert-file", dir.resolve("tls.crt").toString(),
            "schemagate.webhook-key-file", dir.resolve("tls.key").toString());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @TestHTTPResource("/")
  URL http;

  final KubernetesSerialization json = new KubernetesSerialization();

  HttpResponse<String> post(URI uri) throws Exception {
    return post(uri, WebhookServerTest.review(json));
  }

  HttpResponse<String> post(URI uri, byte[] body) throws Exception {
    return HttpClient.newBuilder()
        .sslContext(WebhookServerTest.trustingAll())
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .build()
        .send(
            HttpRequest.newBuilder(uri)
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void thePlainHttpPortDoesNotServeTheWebhook() throws Exception {
    HttpResponse<String> answer = post(http.toURI().resolve(AdmissionWebhook.PATH));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(404);
  }

  @Test
  void theWebhookPortAnswersReviewsOverHttps() throws Exception {
    HttpResponse<String> answer =
        post(URI.create("https://localhost:" + PORT + AdmissionWebhook.PATH));
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    assertThat(answer.body()).contains("\"uid\":\"a1\"", "\"allowed\":true");
  }

  static final URI WEBHOOK = URI.create("https://localhost:" + PORT + AdmissionWebhook.PATH);

  /**
   * 3 MiB, the API server's own limit on a request body, holds the review of any pod it accepts;
   * one byte more is refused.
   */
  @Test
  void aBodyOverThreeMebibytesIsRefused() throws Exception {
    byte[] review = WebhookServerTest.review(json);
    byte[] over = new byte[(3 << 20) + 1];
    java.util.Arrays.fill(over, (byte) ' ');
    System.arraycopy(review, 0, over, 0, review.length);
    assertThat(post(WEBHOOK, over).statusCode()).isEqualTo(413);
    assertThat(post(WEBHOOK, java.util.Arrays.copyOf(over, 3 << 20)).statusCode()).isEqualTo(200);
  }

  /** A renewal (the kubelet swaps the Secret's files) is served within 10 s, with no restart. */
  @Test
  void aRenewedCertificateIsServedWithoutARestart() throws Exception {
    assertThat(served()).isEqualTo("CN=first.example");
    WebhookServerTest.certificate(DIR.resolve("v2"), "renewed.example");
    WebhookServerTest.mount(DIR, "v2");
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertThat(served()).isEqualTo("CN=renewed.example"));
    assertThat(post(WEBHOOK).statusCode()).isEqualTo(200);
  }

  static String served() throws Exception {
    try (javax.net.ssl.SSLSocket socket =
        (javax.net.ssl.SSLSocket)
            WebhookServerTest.trustingAll().getSocketFactory().createSocket("localhost", PORT)) {
      socket.startHandshake();
      return ((java.security.cert.X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getSubjectX500Principal()
          .getName();
    }
  }
}
