package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The floor no Job-based design can beat, in two rows: the runner's process alone against the
 * database (no pod: the JVM's start and the SQL), and a pod of an image that exits at once (pod
 * creation to the pod Succeeded: scheduling, the sandbox, the container's start and its end seen).
 * Neither rolls out an app.
 */
public final class FloorPeer implements Peer {
  static final String EXIT_IMAGE = "bench/exits-at-once:1";

  private final boolean process;
  private double cpu;

  private FloorPeer(boolean process) {
    this.process = process;
  }

  /** The runner's process on the host, against the database directly. */
  public static FloorPeer runnerProcess() {
    return new FloorPeer(true);
  }

  /** A pod whose image exits at once. */
  public static FloorPeer podStart() {
    return new FloorPeer(false);
  }

  @Override
  public String name() {
    return process ? "floor: the runner's process alone" : "floor: a pod that exits at once";
  }

  @Override
  public void install(Sandbox sandbox) throws Exception {
    if (!process) {
      sandbox.simulatedImage(EXIT_IMAGE, Duration.ZERO, "{}", 0);
    }
  }

  @Override
  public Round round(
      Sandbox sandbox,
      String namespace,
      String database,
      MigrationSet set,
      String app,
      String appImage)
      throws Exception {
    return process ? runner(sandbox, namespace, database, set) : pod(sandbox, namespace);
  }

  private Round runner(Sandbox sandbox, String namespace, String database, MigrationSet set)
      throws Exception {
    Path work = Files.createDirectories(sandbox.work.resolve("peers"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Instant applied = Instant.now();
    Timed run =
        Timed.run(
                work,
                // the runner image's JVM option (JAVA_TOOL_OPTIONS there), on this JVM
                List.of(java, "-XX:+UseSerialGC", "-jar", sandbox.runnerJar().toString()),
                Map.of(
                    "DATABASE_URL",
                    "postgresql://postgres:postgres@127.0.0.1:"
                        + sandbox.database.port()
                        + "/"
                        + database,
                    "SCHEMAGATE_LOCATIONS",
                    set.sqlDir().toString(),
                    "SCHEMAGATE_TARGET_REVISION",
                    Integer.toString(set.count()),
                    "SCHEMAGATE_RESULT_FILE",
                    work.resolve(namespace + "-result.json").toString()))
            .ok("the runner");
    Instant done = Instant.now();
    cpu = run.cpuSeconds();
    return new Round(applied, done, null);
  }

  private Round pod(Sandbox sandbox, String namespace) throws Exception {
    cpu = 0;
    try (Watch<Pod> succeeded =
        Watch.until(
            sandbox.client().pods().inNamespace(namespace).withName("exits"),
            "pod exits Succeeded",
            p -> p.getStatus() != null && "Succeeded".equals(p.getStatus().getPhase()))) {
      Instant applied = Instant.now();
      sandbox
          .client()
          .pods()
          .inNamespace(namespace)
          .resource(
              new PodBuilder()
                  .withNewMetadata()
                  .withName("exits")
                  .endMetadata()
                  .withNewSpec()
                  .withRestartPolicy("Never")
                  .addNewContainer()
                  .withName("exits")
                  .withImage(EXIT_IMAGE)
                  .endContainer()
                  .endSpec()
                  .build())
          .create();
      return new Round(applied, succeeded.await(Duration.ofMinutes(5)), null);
    }
  }

  @Override
  public void rest(Sandbox sandbox, String namespace, int count) {}

  @Override
  public Optional<String> controllerPod(Sandbox sandbox) {
    return Optional.empty();
  }

  @Override
  public Optional<String> apiUser() {
    return Optional.empty();
  }

  @Override
  public double processCpuSeconds() {
    return cpu;
  }

  @Override
  public boolean rollsOut() {
    return false;
  }
}
