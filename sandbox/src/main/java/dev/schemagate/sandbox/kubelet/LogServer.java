package dev.schemagate.sandbox.kubelet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The part of the kubelet's HTTPS API that {@code kubectl logs} reaches through the API server:
 * {@code GET /containerLogs/{namespace}/{pod}/{container}} with {@code tailLines}, {@code previous}
 * and {@code follow}. Served on loopback with a certificate of the sandbox's CA.
 */
final class LogServer implements AutoCloseable {
  /** Finds a container's log file; null when there is no such container on this node. */
  interface Logs {
    Path log(String namespace, String pod, String container, boolean previous);

    boolean running(String namespace, String pod, String container);
  }

  private final HttpsServer server;

  LogServer(Path cert, Path key, Logs logs) throws IOException {
    try {
      server =
          HttpsServer.create(
              new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
      server.setHttpsConfigurator(new HttpsConfigurator(sslContext(cert, key)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot load the kubelet's certificate", e);
    }
    server.setExecutor(
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "kubelet-logs");
              t.setDaemon(true);
              return t;
            }));
    server.createContext(
        "/containerLogs/",
        exchange -> {
          try (exchange) {
            serve(exchange, logs);
          }
        });
    server.createContext(
        "/healthz",
        exchange -> {
          try (exchange) {
            respond(exchange, 200, "ok");
          }
        });
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  private static void serve(HttpExchange exchange, Logs logs) throws IOException {
    String[] parts = exchange.getRequestURI().getPath().split("/");
    if (parts.length != 5) {
      respond(exchange, 404, "not found");
      return;
    }
    Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
    boolean previous = "true".equals(query.get("previous"));
    Path log = logs.log(parts[2], parts[3], parts[4], previous);
    if (log == null || !Files.exists(log)) {
      respond(
          exchange,
          404,
          previous
              ? "previous terminated container \""
                  + parts[4]
                  + "\" in pod \""
                  + parts[3]
                  + "\" not found"
              : "container \"" + parts[4] + "\" in pod \"" + parts[3] + "\" has no log");
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    byte[] content = Files.readAllBytes(log);
    if (query.containsKey("tailLines")) {
      List<String> lines = new String(content, StandardCharsets.UTF_8).lines().toList();
      int tail = Integer.parseInt(query.get("tailLines"));
      String kept =
          String.join("\n", lines.subList(Math.max(0, lines.size() - tail), lines.size()));
      content = (kept.isEmpty() ? "" : kept + "\n").getBytes(StandardCharsets.UTF_8);
    }
    new ByteArrayInputStream(content).transferTo(out);
    out.flush();
    if ("true".equals(query.get("follow")) && !previous) {
      follow(log, Files.size(log), out, () -> logs.running(parts[2], parts[3], parts[4]));
    }
  }

  private static void follow(
      Path log, long from, OutputStream out, java.util.function.BooleanSupplier running)
      throws IOException {
    long position = from;
    byte[] buffer = new byte[8192];
    while (true) {
      boolean alive = running.getAsBoolean();
      try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
        file.seek(position);
        int n;
        while ((n = file.read(buffer)) > 0) {
          out.write(buffer, 0, n);
          position += n;
        }
      }
      out.flush();
      if (!alive) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> query = new HashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        String[] kv = pair.split("=", 2);
        query.put(
            URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
            kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
      }
    }
    return query;
  }

  private static void respond(HttpExchange exchange, int code, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(code, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  private static SSLContext sslContext(Path cert, Path key)
      throws IOException, java.security.GeneralSecurityException {
    Certificate certificate;
    try (var in = Files.newInputStream(cert)) {
      certificate = CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    String pem = Files.readString(key).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PrivateKey privateKey =
        KeyFactory.getInstance("EC")
            .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    char[] password = "sandbox".toCharArray();
    store.setKeyEntry("kubelet", privateKey, password, new Certificate[] {certificate});
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), null, null);
    return context;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
