package dev.schemagate.operator.kube;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jboss.logging.Logger;

/**
 * The admission webhook's own HTTPS server: {@link AdmissionWebhook#PATH} is served here and only
 * here, never over plain HTTP (the operator's plain HTTP port serves only metrics and health). The
 * serving certificate is read from its files again every {@code reloadEvery}, and a changed one (a
 * cert-manager renewal, the chart's Secret updated: the kubelet swaps the mounted files) is served
 * from the next TLS handshake on, without a restart and without rebuilding the server.
 */
public final class WebhookServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WebhookServer.class);

  /** How often the certificate's files are read again: a renewal is served within this. */
  public static final Duration RELOAD_EVERY = Duration.ofSeconds(10);

  private final Vertx vertx;
  private final Path certFile;
  private final Path keyFile;
  private final HttpServer server;
  private final Reloading keys;
  private final long timer;
  private Pem served;

  /** A certificate chain and its key, as read from their files. */
  record Pem(byte[] cert, byte[] key) {
    boolean same(Pem other) {
      return other != null && Arrays.equals(cert, other.cert) && Arrays.equals(key, other.key);
    }

    /** The key manager of this chain and key; fails when they do not parse. */
    X509ExtendedKeyManager keyManager(Vertx vertx) throws Exception {
      KeyManager[] managers =
          new PemKeyCertOptions()
              .setCertValue(Buffer.buffer(cert))
              .setKeyValue(Buffer.buffer(key))
              .getKeyManagerFactory(vertx)
              .getKeyManagers();
      return (X509ExtendedKeyManager) managers[0];
    }
  }

  /**
   * The key manager every TLS handshake asks for the certificate: it hands out the one last read,
   * so a renewal takes effect at the next handshake with nothing rebuilt and no connection dropped.
   */
  static final class Reloading extends X509ExtendedKeyManager {
    volatile X509ExtendedKeyManager current;

    Reloading(X509ExtendedKeyManager current) {
      this.current = current;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return current.chooseEngineServerAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current.getServerAliases(keyType, issuers);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return current.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return current.getPrivateKey(alias);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return null;
    }
  }

  private WebhookServer(
      Vertx vertx,
      Path certFile,
      Path keyFile,
      HttpServer server,
      Reloading keys,
      Pem served,
      Duration every) {
    this.vertx = vertx;
    this.certFile = certFile;
    this.keyFile = keyFile;
    this.server = server;
    this.keys = keys;
    this.served = served;
    this.timer = vertx.setPeriodic(every.toMillis(), id -> reload());
  }

  /**
   * Serves {@code webhook} over HTTPS on {@code port} (0: any free port) with the PEM certificate
   * chain and key in these files, read again every {@code reloadEvery}. Fails when the files cannot
   * be read or the port not bound: the operator does not start without its webhook.
   */
  public static WebhookServer start(
      Vertx vertx,
      int port,
      Path certFile,
      Path keyFile,
      Duration reloadEvery,
      AdmissionWebhook webhook) {
    Pem pem =
        read(certFile, keyFile)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "the webhook's certificate changed while it was read: " + certFile));
    Router router = Router.router(vertx);
    webhook.serveOn(router);
    try {
      Reloading keys = new Reloading(pem.keyManager(vertx));
      HttpServerOptions options =
          new HttpServerOptions()
              .setSsl(true)
              .setKeyCertOptions(KeyCertOptions.wrap(keys))
              .setPort(port);
      HttpServer server =
          vertx
              .createHttpServer(options)
              .requestHandler(router)
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      LOG.infof(
          "serving the admission webhook over HTTPS on port %d, %s",
          server.actualPort(), describe(pem));
      return new WebhookServer(vertx, certFile, keyFile, server, keys, pem, reloadEvery);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the webhook's port", e);
    } catch (Exception e) {
      throw new IllegalStateException("could not serve the admission webhook on port " + port, e);
    }
  }

  /** The port it listens on. */
  public int port() {
    return server.actualPort();
  }

  /**
   * The chain and key as they are now; empty when the chain changed while they were read (the
   * kubelet swaps both files at once, so a chain read the same before and after the key goes with
   * that key).
   */
  static Optional<Pem> read(Path certFile, Path keyFile) {
    try {
      byte[] before = Files.readAllBytes(certFile);
      byte[] key = Files.readAllBytes(keyFile);
      byte[] after = Files.readAllBytes(certFile);
      return Arrays.equals(before, after) ? Optional.of(new Pem(after, key)) : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the files again and serves what changed in them (one reload at a time: ordered). */
  void reload() {
    vertx
        .<Pem>executeBlocking(
            () -> {
              Pem pem = read(certFile, keyFile).filter(read -> !read.same(served)).orElse(null);
              if (pem != null) {
                keys.current = pem.keyManager(vertx);
                served = pem;
              }
              return pem;
            },
            true)
        .onSuccess(
            pem -> {
              if (pem != null) {
                LOG.infof("the webhook's certificate changed: serving %s", describe(pem));
              }
            })
        .onFailure(
            e ->
                LOG.warnf(
                    "could not read the webhook's certificate files anew, still serving the"
                        + " last: %s",
                    e.toString()));
  }

  /** The subject and expiry of the chain's first certificate, for the log. */
  static String describe(Pem pem) {
    try {
      X509Certificate cert =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new ByteArrayInputStream(pem.cert()));
      return "certificate " + cert.getSubjectX500Principal() + " valid until " + cert.getNotAfter();
    } catch (CertificateException e) {
      return "a certificate that does not parse (" + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    server.close();
  }
}
