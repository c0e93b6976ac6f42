package dev.schemagate.sandbox.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Every container the node starts and every one that ends, as containerd reports them ({@code ctr
 * events}): which pod, which image, when to the nanosecond, its process and its exit code. What a
 * test asserts on the order of things ("no pod of the new version started before its migration")
 * reads these, not the second-precision times of a pod's status. Pod sandboxes (pause) are left
 * out.
 */
public final class ContainerEvents implements AutoCloseable {
  /** A container's process started. */
  public record Start(
      String namespace, String pod, String container, String image, Instant at, long pid) {}

  /** A container's process ended. */
  public record Exit(
      String namespace, String pod, String container, String image, Instant at, int exitCode) {}

  private record Container(String namespace, String pod, String container, String image) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter LINE_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.n");

  private final Path ctr;
  private final Path socket;
  private final Process process;
  private final Thread reader;
  private final Map<String, Container> containers = new ConcurrentHashMap<>();
  private final List<Start> starts = new CopyOnWriteArrayList<>();
  private final List<Exit> exits = new CopyOnWriteArrayList<>();

  private ContainerEvents(Path ctr, Path socket, Path log) throws IOException {
    this.ctr = ctr;
    this.socket = socket;
    this.process =
        new ProcessBuilder(ctr.toString(), "--address", socket.toString(), "events")
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    this.reader = new Thread(this::read, "container-events");
    reader.setDaemon(true);
    reader.start();
  }

  static ContainerEvents watch(Path ctr, Path socket, Path log) throws IOException {
    return new ContainerEvents(ctr, socket, log);
  }

  public List<Start> starts() {
    return List.copyOf(starts);
  }

  public List<Exit> exits() {
    return List.copyOf(exits);
  }

  /** The process of the pod's container that runs now, if one does. */
  public Optional<Long> runningPid(String namespace, String pod, String container) {
    List<Start> started =
        starts.stream()
            .filter(
                s ->
                    s.namespace().equals(namespace)
                        && s.pod().equals(pod)
                        && s.container().equals(container))
            .toList();
    if (started.isEmpty()) {
      return Optional.empty();
    }
    long pid = started.get(started.size() - 1).pid();
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(ProcessHandle::pid);
  }

  private void read() {
    try (BufferedReader lines =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        try {
          onEvent(line);
        } catch (IOException | RuntimeException e) {
          // an event this reader does not understand is not one it records
        }
      }
    } catch (IOException e) {
      // the stream ends when containerd or ctr stops
    }
  }

  /** {@code 2026-12-07 03:46:17.164561527 +0000 UTC k8s.io /tasks/exit {...}} */
  private void onEvent(String line) throws IOException {
    String[] parts = line.split(" ", 7);
    if (parts.length < 7 || !"k8s.io".equals(parts[4])) {
      return;
    }
    String topic = parts[5];
    if (!topic.equals("/tasks/start") && !topic.equals("/tasks/exit")) {
      return;
    }
    JsonNode event = JSON.readTree(parts[6]);
    String id = event.path("container_id").asText();
    if (!event.path("id").asText(id).equals(id)) {
      return; // an exec'd process, not the container's own
    }
    Container c = containers.computeIfAbsent(id, this::describe);
    if (c == null || c.container().isEmpty()) {
      containers.remove(id);
      return;
    }
    if (topic.equals("/tasks/start")) {
      Instant at =
          LocalDateTime.parse(parts[0] + " " + parts[1], LINE_TIME).toInstant(ZoneOffset.UTC);
      starts.add(
          new Start(
              c.namespace(), c.pod(), c.container(), c.image(), at, event.path("pid").asLong()));
    } else {
      JsonNode exited = event.path("exited_at");
      exits.add(
          new Exit(
              c.namespace(),
              c.pod(),
              c.container(),
              c.image(),
              Instant.ofEpochSecond(exited.path("seconds").asLong(), exited.path("nanos").asLong()),
              event.path("exit_status").asInt(0)));
    }
  }

  /**
   * The pod and image of a container, from its labels ("" container for a pod sandbox); the image
   * as the pod names it (the annotation containerd's CRI sets from the kubelet's request), not as
   * containerd normalized it.
   */
  private Container describe(String id) {
    try {
      Process info =
          new ProcessBuilder(
                  ctr.toString(),
                  "--address",
                  socket.toString(),
                  "-n",
                  "k8s.io",
                  "containers",
                  "info",
                  id)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      JsonNode c = JSON.readTree(info.getInputStream());
      info.waitFor(10, TimeUnit.SECONDS);
      JsonNode labels = c.path("Labels");
      return new Container(
          labels.path("io.kubernetes.pod.namespace").asText(),
          labels.path("io.kubernetes.pod.name").asText(),
          labels.path("io.kubernetes.container.name").asText(),
          c.path("Spec")
              .path("annotations")
              .path("io.kubernetes.cri.image-name")
              .asText(c.path("Image").asText()));
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  @Override
  public void close() {
    process.destroy();
  }
}
