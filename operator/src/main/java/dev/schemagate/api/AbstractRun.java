package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The fields a run in progress ({@link Run}) and a finished one ({@link HistoryEntry}) share,
 * besides those of every Job of the operator's. Each names its target revision itself: the two
 * carry it under different JSON names.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class AbstractRun extends JobRecord {

  @JsonPropertyDescription("upgrade or downgrade.")
  private Direction direction;

  @JsonPropertyDescription(
      "The part of a release an upgrade applied: expand (it held the contract migrations back"
          + " until the app had rolled out) or contract (those migrations, after the rollout);"
          + " none for an upgrade that applied every migration to the target.")
  private MigrationKind part;

  @JsonPropertyDescription("The image the Job runs (for a downgrade, the newer image).")
  private String image;

  @JsonPropertyDescription("spec.image when the run started.")
  private String requestedImage;

  @JsonPropertyDescription(
      "The revision the database was at when the run started; once it has finished, as reported"
          + " by the Job.")
  private String fromRevision;

  @JsonPropertyDescription("metadata.generation when the run started.")
  private Long generation;

  @JsonPropertyDescription("When the run started, with the creation of its Job (RFC 3339).")
  private String startedAt;

  public Direction getDirection() {
    return direction;
  }

  public void setDirection(Direction direction) {
    this.direction = direction;
  }

  public MigrationKind getPart() {
    return part;
  }

  public void setPart(MigrationKind part) {
    this.part = part;
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

  public String getFromRevision() {
    return fromRevision;
  }

  public void setFromRevision(String fromRevision) {
    this.fromRevision = fromRevision;
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
}
