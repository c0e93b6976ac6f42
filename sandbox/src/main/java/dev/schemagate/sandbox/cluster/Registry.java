package dev.schemagate.sandbox.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The sandbox's image registry (go-containerregistry's, {@code crane registry serve}) on the node's
 * address, its blobs on disk: the node pulls every image from it, and helm installs the chart from
 * it as an OCI artifact. Plain HTTP: it is reachable only inside the sandbox's network namespace.
 */
public final class Registry implements AutoCloseable {
  private final Daemon daemon;

  private Registry(Daemon daemon) {
    this.daemon = daemon;
  }

  public static Registry start(Path bin, Path dir, Path pids)
      throws IOException, InterruptedException {
    Path blobs = dir.resolve("registry");
    Files.createDirectories(blobs);
    Daemon d =
        Daemon.start(
            "registry",
            List.of(
                bin.resolve("crane").toString(),
                "registry",
                "serve",
                "--address",
                Network.REGISTRY,
                "--disk",
                blobs.toString()),
            dir,
            pids);
    Registry registry = new Registry(d);
    Instant deadline = Instant.now().plusSeconds(20);
    while (!registry.serves()) {
      if (!d.isAlive() || Instant.now().isAfter(deadline)) {
        d.close();
        throw new IllegalStateException("the registry does not serve; " + d.tail(2000));
      }
      Thread.sleep(50);
    }
    return registry;
  }

  private boolean serves() {
    try {
      return HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://" + Network.REGISTRY + "/v2/"))
                      .timeout(Duration.ofSeconds(1))
                      .build(),
                  HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public void close() {
    daemon.close();
  }
}
