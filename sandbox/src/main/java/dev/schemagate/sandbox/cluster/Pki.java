package dev.schemagate.sandbox.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The control plane's certificates and keys, made with the openssl command line: one CA, serving
 * certificates for the API server and the kubelet, the service-account signing key. ECDSA P-256
 * keys, which take milliseconds to make.
 */
public final class Pki {
  public final Path dir;
  public final Path caCert;
  public final Path caKey;

  private Pki(Path dir) {
    this.dir = dir;
    this.caCert = dir.resolve("ca.crt");
    this.caKey = dir.resolve("ca.key");
  }

  /** A new CA in the directory. */
  public static Pki create(Path dir) throws IOException {
    Files.createDirectories(dir);
    Pki pki = new Pki(dir);
    openssl(
        dir,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        pki.caKey.toString(),
        "-out",
        pki.caCert.toString(),
        "-days",
        "3650",
        "-subj",
        "/CN=schemagate-sandbox-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign");
    return pki;
  }

  /** A key pair and a certificate signed by the CA: {@code name.crt}, {@code name.key}. */
  public Path[] issue(String name, String subject, List<String> altNames, boolean server)
      throws IOException {
    Path cert = dir.resolve(name + ".crt");
    Path key = dir.resolve(name + ".key");
    List<String> args =
        new ArrayList<>(
            List.of(
                "req",
                "-x509",
                "-CA",
                caCert.toString(),
                "-CAkey",
                caKey.toString(),
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString(),
                "-days",
                "3650",
                "-subj",
                subject,
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-addext",
                "keyUsage=critical,digitalSignature,keyEncipherment",
                "-addext",
                "extendedKeyUsage=" + (server ? "serverAuth" : "clientAuth")));
    if (!altNames.isEmpty()) {
      args.add("-addext");
      args.add("subjectAltName=" + String.join(",", altNames));
    }
    openssl(dir, args.toArray(String[]::new));
    return new Path[] {cert, key};
  }

  /** The service accounts' signing key and its public half: {@code sa.key}, {@code sa.pub}. */
  public Path[] serviceAccountKeys() throws IOException {
    Path key = dir.resolve("sa.key");
    Path pub = dir.resolve("sa.pub");
    openssl(
        dir,
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-out",
        key.toString());
    openssl(dir, "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString());
    return new Path[] {key, pub};
  }

  public String caPem() throws IOException {
    return Files.readString(caCert, StandardCharsets.US_ASCII);
  }

  private static void openssl(Path dir, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    Path log = dir.resolve("openssl.log");
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        throw new IOException(
            "openssl " + String.join(" ", args) + " failed:\n" + Files.readString(log));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
