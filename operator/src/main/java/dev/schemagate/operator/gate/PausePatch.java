package dev.schemagate.operator.gate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.Set;

/**
 * A Deployment's {@code spec.paused} and held-by annotation to write, as a JSON Patch (RFC 6902)
 * guarded by a test of the resourceVersion: a Deployment changed since it was read is not
 * overwritten (the API server answers 422 and the reconcile is retried).
 *
 * @param deployment the Deployment as read from the cache, so the client sends it without a read
 * @param jsonPatch the patch
 */
public record PausePatch(Deployment deployment, String jsonPatch) {
  private static final ObjectMapper JSON = new ObjectMapper();

  static PausePatch of(Deployment d, boolean paused, Set<String> holders) {
    ArrayNode ops = JSON.createArrayNode();
    ops.addObject()
        .put("op", "test")
        .put("path", "/metadata/resourceVersion")
        .put("value", d.getMetadata().getResourceVersion());
    String annotation = "/metadata/annotations/" + HeldBy.KEY.replace("~", "~0").replace("/", "~1");
    if (d.getMetadata().getAnnotations() == null) {
      if (!holders.isEmpty()) {
        ops.addObject()
            .put("op", "add")
            .put("path", "/metadata/annotations")
            .putObject("value")
            .put(HeldBy.KEY, HeldBy.value(holders));
      }
    } else if (holders.isEmpty()) {
      if (d.getMetadata().getAnnotations().containsKey(HeldBy.KEY)) {
        ops.addObject().put("op", "remove").put("path", annotation);
      }
    } else {
      ops.addObject().put("op", "add").put("path", annotation).put("value", HeldBy.value(holders));
    }
    ops.addObject().put("op", "add").put("path", "/spec/paused").put("value", paused);
    return new PausePatch(d, ops.toString());
  }
}
