package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** A finished run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HistoryEntry {
  @JsonPropertyDescription("Identifier of the run.")
  private String id;

  @JsonPropertyDescription("Name of the Job that performed it.")
  private String job;

  @JsonPropertyDescription("upgrade or downgrade.")
  private Direction direction;

  @JsonPropertyDescription("The image the Job ran.")
  private String image;

  @JsonPropertyDescription("spec.image when the run started.")
  private String requestedImage;

  @JsonPropertyDescription("The target revision requested (spec.targetRevision).")
  private String targetRevision;

  @JsonPropertyDescription("The revision before the run, as reported by the Job.")
  private String fromRevision;

  @JsonPropertyDescription("The revision after the run, as reported by the Job.")
  private String toRevision;

  @JsonPropertyDescription("metadata.generation when the run started.")
  private Long generation;

  @JsonPropertyDescription("When the run started (RFC 3339).")
  private String startedAt;

  @JsonPropertyDescription("When the run finished (RFC 3339).")
  private String finishedAt;

  @JsonPropertyDescription("Succeeded or Failed.")
  private Outcome outcome;

  @JsonPropertyDescription("CamelCase reason of the outcome, for example MigrationFailed or DeadlineExceeded.")
  private String reason;

  @JsonPropertyDescription("What happened, with secrets redacted.")
  private String message;

  @JsonPropertyDescription("The migrations the run applied (or undid), in order.")
  private List<AppliedMigration> applied = new ArrayList<>();

  public String getId() {
    return id;
  }

  public void setId(String id) {
    this.id = id;
  }

  public String getJob() {
    return job;
  }

  public void setJob(String job) {
    this.job = job;
  }

  public Direction getDirection() {
    return direction;
  }

  public void setDirection(Direction direction) {
    this.direction = direction;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public String getRequestedImage() {
    return requestedImage;
  }

  public void setRequestedImage(String requestedImage) {
    this.requestedImage = requestedImage;
  }

  public String getTargetRevision() {
    return targetRevision;
  }

  public void setTargetRevision(String targetRevision) {
    this.targetRevision = targetRevision;
  }

  public String getFromRevision() {
    return fromRevision;
  }

  public void setFromRevision(String fromRevision) {
    this.fromRevision = fromRevision;
  }

  public String getToRevision() {
    return toRevision;
  }

  public void setToRevision(String toRevision) {
    this.toRevision = toRevision;
  }

  public Long getGeneration() {
    return generation;
  }

  public void setGeneration(Long generation) {
    this.generation = generation;
  }

  public String getStartedAt() {
    return startedAt;
  }

  public void setStartedAt(String startedAt) {
    this.startedAt = startedAt;
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
}
