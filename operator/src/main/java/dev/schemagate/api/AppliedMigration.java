package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One migration a run applied (or undid), as the Job reported it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AppliedMigration {
  @JsonPropertyDescription("The revision of the migration.")
  private String revision;

  @JsonPropertyDescription("Its description.")
  private String description;

  @JsonPropertyDescription("How long it took, in milliseconds.")
  private Long durationMs;

  @JsonPropertyDescription("expand or contract, as the Job reported it.")
  private MigrationKind kind;

  public AppliedMigration() {}

  public AppliedMigration(String revision, String description, Long durationMs) {
    this.revision = revision;
    this.description = description;
    this.durationMs = durationMs;
  }

  public String getRevision() {
    return revision;
  }

  public void setRevision(String revision) {
    this.revision = revision;
  }

  public String getDescription() {
    return description;
  }

  public void setDescription(String description) {
    this.description = description;
  }

  public MigrationKind getKind() {
    return kind;
  }

  public void setKind(MigrationKind kind) {
    this.kind = kind;
  }

  public Long getDurationMs() {
    return durationMs;
  }

  public void setDurationMs(Long durationMs) {
    this.durationMs = durationMs;
  }
}
