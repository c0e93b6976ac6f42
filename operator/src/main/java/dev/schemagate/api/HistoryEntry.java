package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** A finished run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HistoryEntry extends AbstractRun {
  /** The revision the run went to: {@link Run#getTargetRevision()} of the run in progress. */
  @JsonPropertyDescription("The target revision requested (spec.targetRevision).")
  private String targetRevision;

  /** The revision the run reached, which for "head" names the revision itself. */
  @JsonPropertyDescription("The revision after the run, as reported by the Job.")
  private String toRevision;

  @JsonPropertyDescription(
      "The image that ran, pinned to the digest its pod reported (the pod's imageID):"
          + " repository@sha256:.... A retry of this run, and a downgrade from the revision it"
          + " reached, run this digest, not a tag that may have moved since.")
  private String pinnedImage;

  @JsonPropertyDescription(
      "The fingerprint of the managed schema the run left, as it reported it (successful runs).")
  private String schemaFingerprint;

  @JsonPropertyDescription("When the run finished (RFC 3339).")
  private String finishedAt;

  @JsonPropertyDescription("Succeeded or Failed.")
  private Outcome outcome;

  @JsonPropertyDescription(
      "CamelCase reason of the outcome, for example MigrationFailed or DeadlineExceeded.")
  private String reason;

  @JsonPropertyDescription("What happened, with secrets redacted.")
  private String message;

  @JsonPropertyDescription("The migrations the run applied (or undid), in order.")
  private List<AppliedMigration> applied = new ArrayList<>();

  public String getTargetRevision() {
    return targetRevision;
  }

  public void setTargetRevision(String targetRevision) {
    this.targetRevision = targetRevision;
  }

  public String getToRevision() {
    return toRevision;
  }

  public void setToRevision(String toRevision) {
    this.toRevision = toRevision;
  }

  public String getPinnedImage() {
    return pinnedImage;
  }

  public void setPinnedImage(String pinnedImage) {
    this.pinnedImage = pinnedImage;
  }

  public String getFinishedAt() {
    return finishedAt;
  }

  public void setFinishedAt(String finishedAt) {
    this.finishedAt = finishedAt;
  }

  public Outcome getOutcome() {
    return outcome;
  }

  public void setOutcome(Outcome outcome) {
    this.outcome = outcome;
  }

  public String getReason() {
    return reason;
  }

  public void setReason(String reason) {
    this.reason = reason;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public List<AppliedMigration> getApplied() {
    return applied;
  }

  public void setApplied(List<AppliedMigration> applied) {
    this.applied = applied;
  }

  public String getSchemaFingerprint() {
    return schemaFingerprint;
  }

  public void setSchemaFingerprint(String schemaFingerprint) {
    this.schemaFingerprint = schemaFingerprint;
  }
}
