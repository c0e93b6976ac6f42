package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A migration run in progress: one Job. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Run extends AbstractRun {
  /**
   * The revision the run goes to. Its JSON name is {@code toRevision} (v1alpha1's wire format),
   * where a {@link HistoryEntry}'s {@code toRevision} is the revision a finished run reached.
   */
  @JsonProperty("toRevision")
  @JsonPropertyDescription("The target revision of the run (spec.targetRevision when it started).")
  private String targetRevision;

  public String getTargetRevision() {
    return targetRevision;
  }

  public void setTargetRevision(String targetRevision) {
    this.targetRevision = targetRevision;
  }
}
