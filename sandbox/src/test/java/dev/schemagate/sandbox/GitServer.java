package dev.schemagate.sandbox;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A Git repository served over HTTP on the sandbox node's address, as a Git host serves one: Git's
 * own smart HTTP server ({@code git http-backend}, Debian's git), run as CGI for each request. The
 * scenarios commit to a working copy and push to the served bare repository; Flux's
 * source-controller clones it.
 */
final class GitServer implements AutoCloseable {
  private final HttpServer server;
  private final Path root;
  private final Path work;

  private GitServer(HttpServer server, Path root, Path work) {
    this.server = server;
    this.root = root;
    this.work = work;
  }

  /** A bare repository {@code name}.git under dir, served on host, and its working copy. */
  static GitServer start(Path dir, String host, String name) throws Exception {
    Path root = dir.resolve("served");
    Path work = dir.resolve(name);
    Files.createDirectories(root);
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", name + ".git");
    git(dir, "init", "--quiet", "--initial-branch=main", name);
    git(work, "remote", "add", "origin", root.resolve(name + ".git").toString());
    HttpServer server = HttpServer.create(new InetSocketAddress(host, 0), 0);
    GitServer git = new GitServer(server, root, work);
    server.createContext("/", git::serve);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
    return git;
  }

  /** The repository's clone URL. */
  String url() {
    InetSocketAddress at = server.getAddress();
    return "http://"
        + at.getAddress().getHostAddress()
        + ":"
        + at.getPort()
        + "/"
        + work.getFileName()
        + ".git";
  }

  /**
   * Writes these files (path relative to the repository: content) into the working copy, commits
   * them with this message and pushes; the commit's hash.
   */
  String commit(String message, Map<String, String> files) throws Exception {
    for (var f : files.entrySet()) {
      Path file = work.resolve(f.getKey());
      Files.createDirectories(file.getParent());
      Files.writeString(file, f.getValue());
    }
    git(work, "add", "--all");
    git(
        work,
        "-c",
        "user.name=Shop Releases",
        "-c",
        "user.email=releases@shop.example",
        "commit",
        "--quiet",
        "-m",
        message);
    git(work, "push", "--quiet", "origin", "main");
    return git(work, "rev-parse", "HEAD").strip();
  }

  private void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      ProcessBuilder builder = new ProcessBuilder("git", "http-backend");
      Map<String, String> env = builder.environment();
      env.put("GIT_PROJECT_ROOT", root.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("GATEWAY_INTERFACE", "CGI/1.1");
      env.put("REQUEST_METHOD", exchange.getRequestMethod());
      env.put("PATH_INFO", exchange.getRequestURI().getRawPath());
      String query = exchange.getRequestURI().getRawQuery();
      env.put("QUERY_STRING", query == null ? "" : query);
      env.put("REMOTE_ADDR", exchange.getRemoteAddress().getAddress().getHostAddress());
      putHeader(exchange, env, "Content-Type", "CONTENT_TYPE");
      putHeader(exchange, env, "Content-Encoding", "HTTP_CONTENT_ENCODING");
      putHeader(exchange, env, "Git-Protocol", "HTTP_GIT_PROTOCOL");
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (body.length > 0) {
        env.put("CONTENT_LENGTH", Integer.toString(body.length));
      }
      Process backend = builder.start();
      Thread feed =
          new Thread(
              () -> {
                try (OutputStream in = backend.getOutputStream()) {
                  in.write(body);
                } catch (IOException ignored) {
                  // the backend stopped reading: its answer says why
                }
              });
      feed.start();
      InputStream out = backend.getInputStream();
      int status = 200;
      for (String line = readLine(out); !line.isEmpty(); line = readLine(out)) {
        int colon = line.indexOf(':');
        String name = line.substring(0, colon).strip();
        String value = line.substring(colon + 1).strip();
        if (name.equalsIgnoreCase("Status")) {
          status = Integer.parseInt(value.split(" ")[0]);
        } else {
          exchange.getResponseHeaders().add(name, value);
        }
      }
      exchange.sendResponseHeaders(status, 0);
      try (OutputStream response = exchange.getResponseBody()) {
        out.transferTo(response);
      }
      feed.join();
      backend.getErrorStream().transferTo(OutputStream.nullOutputStream());
      backend.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void putHeader(
      HttpExchange exchange, Map<String, String> env, String header, String variable) {
    String value = exchange.getRequestHeaders().getFirst(header);
    if (value != null) {
      env.put(variable, value);
    }
  }

  /** One CGI header line, without its line end; "" at the blank line (or the end). */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b != -1 && b != '\n'; b = in.read()) {
      if (b != '\r') {
        line.write(b);
      }
    }
    return line.toString(StandardCharsets.UTF_8);
  }

  static String git(Path dir, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("git"));
    command.addAll(List.of(args));
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("git " + String.join(" ", args) + " in " + dir + ": " + out);
    }
    return out;
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
