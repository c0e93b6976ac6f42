package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

public class GateSpec {
  @JsonPropertyDescription(
      "How the app is held back. Admission: pods labelled schemagate.dev/migration=<this name>"
          + " wait, from their creation, at the scheduling gate schemagate.dev/migration until the"
          + " revision they need is in place (annotation schemagate.dev/requires-revision; without"
          + " it, the target of this resource); the cluster must have the chart's admission"
          + " policy or webhook. Pause: the Deployments in deployments are paused. Unset: the"
          + " operator's default (the chart's gate.defaultMode).")
  private GateMode mode;

  @Size(max = 64)
  @JsonPropertyDescription(
      "Names of Deployments in the same namespace that depend on this migration. In Pause mode"
          + " they are paused (spec.paused) while the database is not at the target revision, and"
          + " resumed once it is; a Deployment that does not exist yet is held as soon as it"
          + " appears. In Admission mode their pods are held at admission instead; one whose pod"
          + " template lacks the label schemagate.dev/migration is paused, as in Pause mode.")
  private List<String> deployments = new ArrayList<>();

  public GateMode getMode() {
    return mode;
  }

  public void setMode(GateMode mode) {
    this.mode = mode;
  }

  public List<String> getDeployments() {
    return deployments;
  }

  public void setDeployments(List<String> deployments) {
    this.deployments = deployments;
  }
}
