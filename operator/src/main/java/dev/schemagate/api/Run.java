package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A migration run: one Job. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Run {
  @JsonPropertyDescription("Identifier of the run, derived from its inputs; also in the Job's name.")
  private String id;

  @JsonPropertyDescription("Name of the Job that performs the run.")
  private String job;

  @JsonPropertyDescription("upgrade or downgrade.")
  private Direction direction;

  @JsonPropertyDescription("The image the Job runs (for a downgrade, the newer image).")
  private String image;

  @JsonPropertyDescription("spec.image when the run started.")
  private String requestedImage;

  @JsonPropertyDescription("The revision the database was at when the run started.")
  private String fromRevision;

  @JsonPropertyDescription("The target revision of the run (spec.targetRevision when it started).")
  private String toRevision;

  @JsonPropertyDescription("metadata.generation when the run started.")
  private Long generation;

  @JsonPropertyDescription("When the Job was created (RFC 3339).")
  private String startedAt;

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
}
