package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.Map;

/**
 * The schema fingerprint the last successful run recorded, with its per-table digests (the only
 * copy: the history keeps the fingerprint alone), and what the drift checks found.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DriftStatus {
  @JsonPropertyDescription(
      "The fingerprint of the managed schema the last successful run left (16 hex digits of a"
          + " SHA-256 over its tables, columns, constraints and indexes); absent when that run"
          + " reported none.")
  private String fingerprint;

  @JsonPropertyDescription(
      "The per-table digests of that schema (schema.table: 8 hex digits), which name the tables"
          + " that differ.")
  private Map<String, String> tables;

  @JsonPropertyDescription(
      "true: the run reported the fingerprint without the per-table digests (too many tables for"
          + " its result); a drift is found, but its tables are not named.")
  private Boolean tablesOmitted;

  @JsonPropertyDescription("When the fingerprint was recorded (RFC 3339).")
  private String recordedAt;

  @JsonPropertyDescription("The Job of the run that recorded it.")
  private String recordedBy;

  @JsonPropertyDescription("The last check Job: under way (no outcome yet) or finished.")
  private DriftCheck check;

  @JsonPropertyDescription(
      "The live schema as the last check that read it found it, against the recorded"
          + " fingerprint.")
  private LiveSchema live;

  public String getFingerprint() {
    return fingerprint;
  }

  public void setFingerprint(String fingerprint) {
    this.fingerprint = fingerprint;
  }

  public Map<String, String> getTables() {
    return tables;
  }

  public void setTables(Map<String, String> tables) {
    this.tables = tables;
  }

  public Boolean getTablesOmitted() {
    return tablesOmitted;
  }

  public void setTablesOmitted(Boolean tablesOmitted) {
    this.tablesOmitted = tablesOmitted;
  }

  public String getRecordedAt() {
    return recordedAt;
  }

  public void setRecordedAt(String recordedAt) {
    this.recordedAt = recordedAt;
  }

  public String getRecordedBy() {
    return recordedBy;
  }

  public void setRecordedBy(String recordedBy) {
    this.recordedBy = recordedBy;
  }

  public DriftCheck getCheck() {
    return check;
  }

  public void setCheck(DriftCheck check) {
    this.check = check;
  }

  public LiveSchema getLive() {
    return live;
  }

  public void setLive(LiveSchema live) {
    this.live = live;
  }
}
