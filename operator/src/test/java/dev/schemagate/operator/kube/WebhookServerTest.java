package dev.schemagate.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.schemagate.api.GateMode;
import dev.schemagate.operator.gate.MissingMigration;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook as the API server reaches it: over HTTPS only, a body no larger than a pod's review,
 * and a renewed certificate served without a restart. The certificate's files are laid out as the
 * kubelet mounts a Secret (each name a link into a directory that a renewal swaps at once).
 */
class WebhookServerTest {
  static final Duration RELOAD = Duration.ofMillis(200);

  @TempDir Path dir;
  Vertx vertx;
  WebhookServer server;
  final KubernetesSerialization json = new KubernetesSerialization();

  @BeforeEach
  void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void close() throws Exception {
    if (server != null) {
      server.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A self-signed certificate for {@code cn} and its key, in {@code into}. */
  public static void certificate(Path into, String cn) throws Exception {
    Files.createDirectories(into);
    Process openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=" + cn,
                "-addext",
                "subjectAltName=DNS:localhost,DNS:" + cn,
                "-keyout",
                into.resolve("tls.key").toString(),
                "-out",
                into.resolve("tls.crt").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(openssl.getInputStream().readAllBytes());
    assertThat(openssl.waitFor()).as(out).isZero();
  }

  /** The Secret's volume as the kubelet lays it out, showing the certificate in {@code version}. */
  void mount(String version) throws IOException {
    mount(dir, version);
  }

  /** Shows the certificate in {@code dir/version} in {@code dir}, as the kubelet swaps it in. */
  public static void mount(Path dir, String version) throws IOException {
    Path link = dir.resolve("..data_tmp");
    Files.deleteIfExists(link);
    Files.createSymbolicLink(link, Path.of(version));
    Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    for (String name : List.of("tls.crt", "tls.key")) {
      if (!Files.exists(dir.resolve(name), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(dir.resolve(name), Path.of("..data", name));
      }
    }
  }

  WebhookServer start() {
    return WebhookServer.start(
        vertx,
        0,
        dir.resolve("tls.crt"),
        dir.resolve("tls.key"),
        RELOAD,
        new AdmissionWebhook(
            (namespace, name) -> null,
            GateMode.Admission,
            MissingMigration.Admit,
            json,
            new SimpleMeterRegistry()));
  }

  public static SSLContext trustingAll() throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        null,
        new TrustManager[] {
          new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String type) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String type) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return new X509Certificate[0];
            }
          }
        },
        new SecureRandom());
    return context;
  }

  /** The subject of the certificate a new connection is served. */
  String served() throws Exception {
    try (SSLSocket socket =
        (SSLSocket) trustingAll().getSocketFactory().createSocket("localhost", server.port())) {
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getSubjectX500Principal()
          .getName();
    }
  }

  HttpResponse<String> post(String scheme, byte[] body) throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .sslContext(trustingAll())
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    return client.send(
        HttpRequest.newBuilder(
                URI.create(scheme + "://localhost:" + server.port() + AdmissionWebhook.PATH))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public static byte[] review(KubernetesSerialization json) {
    AdmissionRequest request = new AdmissionRequest();
    request.setUid("a1");
    request.setNamespace("shop");
    request.setObject(AdmissionWebhookTest.pod("4"));
    AdmissionReview review = new AdmissionReview();
    review.setApiVersion("admission.k8s.io/v1");
    review.setKind("AdmissionReview");
    review.setRequest(request);
    return json.asJson(review).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void answersReviewsOverHttpsAndNothingOverPlainHttp() throws Exception {
    certificate(dir.resolve("v1"), "first.example");
    mount("v1");
    server = start();
    HttpResponse<String> answer = post("https", review(json));
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(json.unmarshal(answer.body(), AdmissionReview.class).getResponse().getUid())
        .isEqualTo("a1");
    assertThatThrownBy(() -> post("http", review(json)))
        .as("a review sent over plain HTTP gets no answer")
        .isInstanceOf(IOException.class);
  }

  @Test
  void aBodyLargerThanAPodsReviewIsRefusedUnread() throws Exception {
    certificate(dir.resolve("v1"), "first.example");
    mount("v1");
    server = start();
    byte[] padded = new byte[AdmissionWebhook.BODY_LIMIT + 1];
    java.util.Arrays.fill(padded, (byte) ' ');
    byte[] review = review(json);
    System.arraycopy(review, 0, padded, 0, review.length);
    assertThat(post("https", padded).statusCode()).isEqualTo(413);
    // the same review within the limit is answered
    byte[] fits = java.util.Arrays.copyOf(padded, AdmissionWebhook.BODY_LIMIT);
    assertThat(post("https", fits).statusCode()).isEqualTo(200);
  }

  @Test
  void aRenewedCertificateIsServedWithoutARestart() throws Exception {
    certificate(dir.resolve("v1"), "first.example");
    mount("v1");
    server = start();
    assertThat(served()).isEqualTo("CN=first.example");
    certificate(dir.resolve("v2"), "renewed.example");
    mount("v2");
    await()
        .atMost(RELOAD.multipliedBy(10))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(served()).isEqualTo("CN=renewed.example"));
    assertThat(post("https", review(json)).statusCode()).isEqualTo(200);
  }
}
