package dev.schemagate.operator.kube;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import dev.schemagate.operator.gate.HeldBy;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Version;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * A Deployment as the operator's informer reads it from the API server: the JSON is read past
 * everything the gate does not read, so that listing thousands of Deployments builds no pod
 * template and no managed fields (skipped in the parser, never made into objects). What is read:
 * the metadata but its managed fields, owner references, labels and finalizers, of the annotations
 * only the held-by one, the spec but its pod template's spec, and the status (a few counts and
 * conditions: how far the rollout is). {@link DeploymentStore} keeps less still; this class only
 * spares making what it would drop. A watch event comes in full and the client converts it to this
 * class.
 */
@Group("apps")
@Version("v1")
@Kind("Deployment")
@Plural("deployments")
public final class GateDeployment extends Deployment {
  @Override
  @JsonDeserialize(as = Meta.class)
  public void setMetadata(ObjectMeta metadata) {
    super.setMetadata(metadata);
  }

  @Override
  @JsonDeserialize(as = Spec.class)
  public void setSpec(DeploymentSpec spec) {
    super.setSpec(spec);
  }

  /** Metadata without what no step reads of a Deployment; annotations: the held-by one only. */
  @JsonIgnoreProperties({"managedFields", "ownerReferences", "labels", "finalizers"})
  public static final class Meta extends ObjectMeta {
    @Override
    @JsonDeserialize(using = HeldByOnly.class)
    public void setAnnotations(Map<String, String> annotations) {
      super.setAnnotations(annotations);
    }
  }

  /** A Deployment's spec whose pod template is read without its spec. */
  public static final class Spec extends DeploymentSpec {
    @Override
    @JsonDeserialize(as = Template.class)
    public void setTemplate(PodTemplateSpec template) {
      super.setTemplate(template);
    }
  }

  /** A pod template: its metadata (the gate reads a label), not its spec. */
  @JsonIgnoreProperties({"spec"})
  public static final class Template extends PodTemplateSpec {}

  /**
   * Reads an annotations object into a map holding only the held-by annotation (empty when the
   * object has others only): the other values, {@code last-applied-configuration} among them (a
   * copy of the whole object), are skipped in the parser.
   */
  static final class HeldByOnly extends JsonDeserializer<Map<String, String>> {
    @Override
    public Map<String, String> deserialize(JsonParser p, DeserializationContext ctxt)
        throws IOException {
      Map<String, String> kept = new HashMap<>();
      if (p.currentToken() != JsonToken.START_OBJECT) {
        return ctxt.reportInputMismatch(this, "annotations: expected an object");
      }
      for (String key = p.nextFieldName(); key != null; key = p.nextFieldName()) {
        JsonToken value = p.nextToken();
        if (HeldBy.KEY.equals(key) && value == JsonToken.VALUE_STRING) {
          kept.put(key, p.getText());
        } else {
          p.skipChildren();
        }
      }
      return kept;
    }
  }
}
