package dev.schemagate.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DatabaseMigration as the cluster holds it, once for each state it passes through: the first
 * object the API server sends (a watch) in each phase at the observed generation, and in "not
 * observed" (no status yet, or a generation the operator has not observed). Each is saved as JSON,
 * as {@code kubectl get -o json} prints it, under sandbox/target/live-dbm/&lt;namespace&gt;.
 */
final class LiveStates implements AutoCloseable {
  static final String NOT_OBSERVED = "not observed";
  static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, JsonNode> states = new LinkedHashMap<>();
  private final Watch watch;
  private final Path dir;

  private LiveStates(E2e world, String name) {
    dir = E2e.HOME.resolve("sandbox/target/live-dbm").resolve(world.ns);
    watch =
        world
            .dbm(name)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, GenericKubernetesResource r) {
                    if (action == Action.ADDED || action == Action.MODIFIED) {
                      seen(world.client().getKubernetesSerialization().asJson(r));
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  /** Starts recording the DatabaseMigration {@code name} of the world's namespace. */
  static LiveStates record(E2e world, String name) {
    return new LiveStates(world, name);
  }

  private synchronized void seen(String json) {
    try {
      JsonNode obj = JSON.readTree(json);
      String state = state(obj);
      if (!states.containsKey(state)) {
        states.put(state, obj);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(state.replace(' ', '-') + ".json"), json);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String state(JsonNode obj) {
    JsonNode status = obj.path("status");
    if (!status.has("observedGeneration")
        || status.get("observedGeneration").asLong() < obj.at("/metadata/generation").asLong()) {
      return NOT_OBSERVED;
    }
    return status.path("phase").asText();
  }

  /** The states seen so far, each with its first object, in the order they came. */
  synchronized Map<String, JsonNode> states() {
    return new LinkedHashMap<>(states);
  }

  @Override
  public void close() {
    watch.close();
  }
}
