package dev.schemagate.operator.gate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Holds and releases gated Deployments with {@code spec.paused} and the {@code schemagate.dev/held-by}
 * annotation, which lists every DatabaseMigration that holds it. A Deployment is resumed only when
 * the last holder lets go, and never when it was paused by someone else.
 */
public class RolloutGate {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the gate did and now holds. */
  public record Outcome(List<String> held, List<String> newlyHeld, List<String> released, List<String> pausedByOthers) {}

  private final KubernetesClient client;
  private final UnaryOperator<Deployment> afterPatch;

  /**
   * @param afterPatch told of each patched Deployment (the informer cache takes it in)
   */
  public RolloutGate(KubernetesClient client, UnaryOperator<Deployment> afterPatch) {
    this.client = client;
    this.afterPatch = afterPatch;
  }

  /** The Deployments spec.gate names, as written (not all of them may be valid names). */
  public static List<String> gatedNames(DatabaseMigration dbm) {
    return dbm.getSpec().getGate() == null || dbm.getSpec().getGate().getDeployments() == null
        ? List.of()
        : dbm.getSpec().getGate().getDeployments();
  }

  /** Holds every named Deployment that exists; lets go of those that are no longer named. */
  public Outcome hold(DatabaseMigration dbm, List<String> names, List<String> previouslyHeld, Function<String, Deployment> lookup) {
    String me = dbm.getMetadata().getName();
    List<String> held = new ArrayList<>();
    List<String> newlyHeld = new ArrayList<>();
    List<String> pausedByOthers = new ArrayList<>();
    for (String name : names) {
      Deployment d = lookup.apply(name);
      if (d == null) {
        continue;
      }
      Set<String> holders = HeldBy.holders(d);
      boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
      if (holders.contains(me)) {
        if (!paused) {
          patch(d, true, holders);
        }
        held.add(name);
      } else if (paused && holders.isEmpty()) {
        pausedByOthers.add(name);
      } else {
        holders.add(me);
        patch(d, true, holders);
        held.add(name);
        newlyHeld.add(name);
      }
    }
    List<String> released = new ArrayList<>();
    for (String name : previouslyHeld) {
      if (!names.contains(name) && letGo(me, lookup.apply(name))) {
        released.add(name);
      }
    }
    return new Outcome(held, newlyHeld, released, pausedByOthers);
  }

  /** Lets go of every Deployment this resource holds among the names given. */
  public List<String> release(DatabaseMigration dbm, Set<String> names, Function<String, Deployment> lookup) {
    List<String> released = new ArrayList<>();
    for (String name : names) {
      if (letGo(dbm.getMetadata().getName(), lookup.apply(name))) {
        released.add(name);
      }
    }
    return released;
  }

  private boolean letGo(String me, Deployment d) {
    if (d == null) {
      return false;
    }
    Set<String> holders = HeldBy.holders(d);
    if (!holders.remove(me)) {
      return false;
    }
    patch(d, !holders.isEmpty(), holders);
    return true;
  }

  /**
   * A JSON Patch (RFC 6902) guarded by a test of the resourceVersion: a Deployment changed since
   * it was read is not overwritten (the API server answers 422 and the reconcile is retried).
   */
  private void patch(Deployment d, boolean paused, Set<String> holders) {
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion").put("value", d.getMetadata().getResourceVersion());
    String annotation = "/metadata/annotations/" + HeldBy.KEY.replace("~", "~0").replace("/", "~1");
    if (d.getMetadata().getAnnotations() == null) {
      if (!holders.isEmpty()) {
        ops.addObject().put("op", "add").put("path", "/metadata/annotations").putObject("value").put(HeldBy.KEY, HeldBy.value(holders));
      }
    } else if (holders.isEmpty()) {
      if (d.getMetadata().getAnnotations().containsKey(HeldBy.KEY)) {
        ops.addObject().put("op", "remove").put("path", annotation);
      }
    } else {
      ops.addObject().put("op", "add").put("path", annotation).put("value", HeldBy.value(holders));
    }
    ops.addObject().put("op", "add").put("path", "/spec/paused").put("value", paused);
    Deployment updated =
        client
            .apps()
            .deployments()
            .inNamespace(d.getMetadata().getNamespace())
            // the cached object, so that the client does not read it from the server first
            .resource(d)
            .patch(PatchContext.of(PatchType.JSON), ops.toString());
    afterPatch.apply(updated);
  }
}
