package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** The live schema a drift check read, and how it differs from the recorded one. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LiveSchema {
  @JsonPropertyDescription(
      "The live schema's fingerprint: the value spec.drift.acknowledged takes to accept it.")
  private String fingerprint;

  @JsonPropertyDescription(
      "The recorded fingerprint it was compared with (status.drift.fingerprint).")
  private String comparedWith;

  @JsonPropertyDescription("Whether it differs from the recorded one.")
  private Boolean drifted;

  @JsonPropertyDescription("Tables in the live schema that the recorded one has not (at most 20).")
  private List<String> added;

  @JsonPropertyDescription("Tables of the recorded schema that the live one has not (at most 20).")
  private List<String> removed;

  @JsonPropertyDescription("Tables whose columns, constraints or indexes differ (at most 20).")
  private List<String> changed;

  @JsonPropertyDescription("The differences in one line.")
  private String summary;

  @JsonPropertyDescription("When it was read (RFC 3339).")
  private String checkedAt;

  @JsonPropertyDescription("The check Job that read it.")
  private String job;

  public String getFingerprint() {
    return fingerprint;
  }

  public void setFingerprint(String fingerprint) {
    this.fingerprint = fingerprint;
  }

  public String getComparedWith() {
    return comparedWith;
  }

  public void setComparedWith(String comparedWith) {
    this.comparedWith = comparedWith;
  }

  public Boolean getDrifted() {
    return drifted;
  }

  public void setDrifted(Boolean drifted) {
    this.drifted = drifted;
  }

  public List<String> getAdded() {
    return added;
  }

  public void setAdded(List<String> added) {
    this.added = added;
  }

  public List<String> getRemoved() {
    return removed;
  }

  public void setRemoved(List<String> removed) {
    this.removed = removed;
  }

  public List<String> getChanged() {
    return changed;
  }

  public void setChanged(List<String> changed) {
    this.changed = changed;
  }

  public String getSummary() {
    return summary;
  }

  public void setSummary(String summary) {
    this.summary = summary;
  }

  public String getCheckedAt() {
    return checkedAt;
  }

  public void setCheckedAt(String checkedAt) {
    this.checkedAt = checkedAt;
  }

  public String getJob() {
    return job;
  }

  public void setJob(String job) {
    this.job = job;
  }
}
