package dev.schemagate.sandbox;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The embedded sandbox's serving certificate for the operator's admission webhook, which the
 * operator serves over HTTPS only: a self-signed one for 127.0.0.1, made with the JDK's keytool (no
 * other tool needed), written as the PEM files the operator reads (tls.crt, tls.key), and the
 * SSLContext the embedded API server trusts it with, as a real API server trusts the caBundle of
 * the chart's webhook configuration.
 */
final class WebhookCertificate {
  private static final String PASSWORD = "sandbox";
  private final Path cert;
  private final Path key;
  private final SSLContext trust;

  private WebhookCertificate(Path cert, Path key, SSLContext trust) {
    this.cert = cert;
    this.key = key;
    this.trust = trust;
  }

  /** A new certificate for 127.0.0.1 in {@code dir}. */
  static WebhookCertificate make(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path store = dir.resolve("webhook.p12");
    Files.deleteIfExists(store);
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p =
        new ProcessBuilder(
                List.of(
                    keytool.toString(),
                    "-genkeypair",
                    "-alias",
                    "webhook",
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-dname",
                    "CN=127.0.0.1",
                    "-ext",
                    "SAN=ip:127.0.0.1,dns:localhost",
                    "-validity",
                    "2",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    store.toString(),
                    "-storepass",
                    PASSWORD))
            .redirectErrorStream(true)
            .start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("keytool could not make the webhook's certificate: " + out);
      }
      KeyStore keys = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        keys.load(in, PASSWORD.toCharArray());
      }
      Certificate certificate = keys.getCertificate("webhook");
      Key privateKey = keys.getKey("webhook", PASSWORD.toCharArray());
      Path cert = dir.resolve("tls.crt");
      Path key = dir.resolve("tls.key");
      Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()));
      Files.writeString(key, pem("PRIVATE KEY", privateKey.getEncoded()));
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      trusted.setCertificateEntry("webhook", certificate);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return new WebhookCertificate(cert, key, context);
    } catch (GeneralSecurityException e) {
      throw new IOException("could not read the webhook's certificate: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while making the webhook's certificate", e);
    } finally {
      p.destroyForcibly();
      Files.deleteIfExists(store);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  Path cert() {
    return cert;
  }

  Path key() {
    return key;
  }

  /** What trusts this certificate alone. */
  SSLContext trust() {
    return trust;
  }
}
