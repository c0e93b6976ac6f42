package dev.schemagate.operator.gate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.Set;

/**
 * A Deployment's {@code spec.paused} and held-by annotation to write, built from what it changes
 * and guarded by a test of what it relies on: when the annotation lists holders already, a JSON
 * Patch (RFC 6902) that first tests the annotation's value, so that a holder another
 * DatabaseMigration added or removed meanwhile is never overwritten (the API server answers 422 and
 * the reconcile is retried); when it lists none, a JSON merge patch that adds this holder and
 * leaves every other annotation alone. Nothing else of the Deployment is tested: its status, which
 * the Deployment controller updates all the time, does not make the patch fail.
 *
 * @param deployment the Deployment as read from the cache, so the client sends it without a read
 * @param merge whether {@code body} is a JSON merge patch (else a JSON Patch)
 * @param body the patch
 * @param paused the {@code spec.paused} it writes
 */
public record PausePatch(Deployment deployment, boolean merge, String body, boolean paused) {
  private static final ObjectMapper JSON = new ObjectMapper();

  static PausePatch of(Deployment d, boolean paused, Set<String> holders) {
    String before = HeldBy.value(HeldBy.holders(d));
    if (before.isEmpty()) {
      ObjectNode merge = JSON.createObjectNode();
      if (!holders.isEmpty()) {
        merge.putObject("metadata").putObject("annotations").put(HeldBy.KEY, HeldBy.value(holders));
      }
      merge.putObject("spec").put("paused", paused);
      return new PausePatch(d, true, merge.toString(), paused);
    }
    String annotation = "/metadata/annotations/" + HeldBy.KEY.replace("~", "~0").replace("/", "~1");
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject()
        .put("op", "test")
        .put("path", annotation)
        .put("value", d.getMetadata().getAnnotations().get(HeldBy.KEY));
    if (holders.isEmpty()) {
      ops.addObject().put("op", "remove").put("path", annotation);
    } else {
      ops.addObject()
          .put("op", "replace")
          .put("path", annotation)
          .put("value", HeldBy.value(holders));
    }
    ops.addObject().put("op", "add").put("path", "/spec/paused").put("value", paused);
    return new PausePatch(d, false, ops.toString(), paused);
  }
}
