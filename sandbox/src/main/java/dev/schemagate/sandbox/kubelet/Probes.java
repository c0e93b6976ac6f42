package dev.schemagate.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The kubelet's readiness and startup probes: {@code httpGet} (HTTP or HTTPS, the certificate not
 * verified, as the kubelet does; 200-399 is success) and {@code tcpSocket}, against the pod's IP.
 * {@code exec} and {@code grpc} probes are not run here: they count as passing.
 */
final class Probes {
  private static final HttpClient HTTP = client(false);
  private static final HttpClient HTTPS = client(true);

  private Probes() {}

  /** Whether the probe passes now. */
  static boolean check(Probe probe, Container container, String podIp) {
    Duration timeout =
        Duration.ofSeconds(probe.getTimeoutSeconds() == null ? 1 : probe.getTimeoutSeconds());
    try {
      if (probe.getHttpGet() != null) {
        var get = probe.getHttpGet();
        boolean https = "HTTPS".equalsIgnoreCase(get.getScheme());
        String host = get.getHost() == null || get.getHost().isBlank() ? podIp : get.getHost();
        String path = get.getPath() == null ? "/" : get.getPath();
        URI uri =
            URI.create(
                (https ? "https" : "http")
                    + "://"
                    + host
                    + ":"
                    + port(get.getPort(), container)
                    + path);
        HttpResponse<Void> response =
            (https ? HTTPS : HTTP)
                .send(
                    HttpRequest.newBuilder(uri).timeout(timeout).build(),
                    HttpResponse.BodyHandlers.discarding());
        return response.statusCode() >= 200 && response.statusCode() < 400;
      }
      if (probe.getTcpSocket() != null) {
        String host =
            probe.getTcpSocket().getHost() == null ? podIp : probe.getTcpSocket().getHost();
        try (Socket socket = new Socket()) {
          socket.connect(
              new InetSocketAddress(host, port(probe.getTcpSocket().getPort(), container)),
              (int) timeout.toMillis());
          return true;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** A port by number, or by the name of one of the container's ports. */
  static int port(IntOrString port, Container container) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return container.getPorts() == null
        ? -1
        : container.getPorts().stream()
            .filter(p -> port.getStrVal().equals(p.getName()))
            .mapToInt(p -> p.getContainerPort())
            .findFirst()
            .orElse(-1);
  }

  private static HttpClient client(boolean insecure) {
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(1));
    if (insecure) {
      try {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(
            null,
            new TrustManager[] {
              new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                  return new X509Certificate[0];
                }
              }
            },
            null);
        builder.sslContext(context);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
    return builder.build();
  }
}
