package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

public class DowngradeSpec {
  @Default("Forbid")
  @JsonPropertyDescription(
      "Forbid (default): a target below the current revision is refused with reason"
          + " DowngradeForbidden. Allow: it is migrated down, with the image that reached the"
          + " current revision (status.currentImage), which holds the down-migrations.")
  private DowngradePolicy policy = DowngradePolicy.Forbid;

  public DowngradePolicy getPolicy() {
    return policy;
  }

  public void setPolicy(DowngradePolicy policy) {
    this.policy = policy;
  }
}
