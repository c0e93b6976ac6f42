package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One migration a plan would apply. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlannedMigration {
  @JsonPropertyDescription("The revision.")
  private String revision;

  @JsonPropertyDescription("Its description.")
  private String description;

  @JsonPropertyDescription("Its checksum, as the tool computes it (Flyway's CRC32).")
  private Long checksum;

  @JsonPropertyDescription("false: it runs outside a transaction (and is not rehearsed).")
  private Boolean transactional;

  @JsonPropertyDescription(
      "expand (it adds: the app version before it runs on the schema it leaves) or contract (it"
          + " removes what an older app version needs: it runs once the app has rolled out).")
  private MigrationKind kind;

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

  public Long getChecksum() {
    return checksum;
  }

  public void setChecksum(Long checksum) {
    this.checksum = checksum;
  }

  public MigrationKind getKind() {
    return kind;
  }

  public void setKind(MigrationKind kind) {
    this.kind = kind;
  }

  public Boolean getTransactional() {
    return transactional;
  }

  public void setTransactional(Boolean transactional) {
    this.transactional = transactional;
  }
}
