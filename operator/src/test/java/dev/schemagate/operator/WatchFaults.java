package dev.schemagate.operator;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.WebSocket;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Faults in the mock API server's watches, where a real API server can lose the operator's events:
 * a change no open watch is told of (the watch was cut and resumes after it), and a watch told that
 * the resourceVersion it resumes from is too old (410 Gone: the API server's watch cache, or etcd,
 * compacted it). The mock API server has no switch for either: its watches are reached by
 * reflection, as in {@link RecentWritesTest}.
 */
final class WatchFaults {
  private static final String GONE =
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
          + "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version\","
          + "\"reason\":\"Expired\",\"code\":410}}";

  private final Set<Object> listeners;

  WatchFaults(KubernetesMockServer server) {
    KubernetesMixedDispatcher mixed =
        (KubernetesMixedDispatcher) field(KubernetesMockServer.class, server, "dispatcher");
    KubernetesCrudDispatcher crud =
        (KubernetesCrudDispatcher)
            field(KubernetesMixedDispatcher.class, mixed, "kubernetesCrudDispatcher");
    @SuppressWarnings("unchecked")
    Set<Object> open =
        (Set<Object>) field(KubernetesCrudDispatcher.class, crud, "watchEventListeners");
    this.listeners = open;
  }

  /**
   * Makes {@code change} while the open watches of these resources (plural names: {@code jobs},
   * {@code pods}) are not told of it: to them, the change never happened.
   */
  void unseen(Set<String> resources, Runnable change) {
    List<Object> blind = watchesOf(resources);
    if (blind.isEmpty()) {
      throw new AssertionError("no open watch of " + resources);
    }
    listeners.removeAll(blind);
    try {
      change.run();
    } finally {
      listeners.addAll(blind);
    }
  }

  /**
   * Each open watch of these resources gets the API server's 410 Gone (an ERROR event with the
   * Status {@code Expired}), as when it resumes from a resourceVersion that was compacted; returns
   * how many were told.
   */
  int gone(Set<String> resources) {
    int told = 0;
    for (Object listener : watchesOf(resources)) {
      if (socket(listener).send(GONE)) {
        told++;
      }
    }
    return told;
  }

  private List<Object> watchesOf(Set<String> resources) {
    return listeners.stream()
        .filter(
            l -> {
              WebSocket socket = socket(l);
              if (socket == null) {
                return false;
              }
              String path = socket.request().getPath();
              int query = path.indexOf('?');
              if (query < 0) {
                return false;
              }
              String resource = path.substring(path.lastIndexOf('/', query) + 1, query);
              return resources.contains(resource);
            })
        .toList();
  }

  private static WebSocket socket(Object listener) {
    @SuppressWarnings("unchecked")
    AtomicReference<WebSocket> ref =
        (AtomicReference<WebSocket>) field(listener.getClass(), listener, "webSocketRef");
    return ref.get();
  }

  private static Object field(Class<?> type, Object owner, String name) {
    try {
      Field field = type.getDeclaredField(name);
      field.setAccessible(true);
      return field.get(owner);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the mock API server's " + name + " moved: " + e, e);
    }
  }
}
