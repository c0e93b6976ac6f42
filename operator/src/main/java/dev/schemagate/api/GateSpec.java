package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

public class GateSpec {
  @Size(max = 64)
  @JsonPropertyDescription(
      "Names of Deployments in the same namespace that are paused (spec.paused) while the database"
          + " is not at the target revision, and resumed once it is. A Deployment that does not"
          + " exist yet is held as soon as it appears.")
  private List<String> deployments = new ArrayList<>();

  public List<String> getDeployments() {
    return deployments;
  }

  public void setDeployments(List<String> deployments) {
    this.deployments = deployments;
  }
}
