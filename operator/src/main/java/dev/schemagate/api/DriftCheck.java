package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One drift check Job. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DriftCheck extends JobRecord {

  @JsonPropertyDescription("When the check Job was created (RFC 3339).")
  private String startedAt;

  @JsonPropertyDescription("When its result was read (RFC 3339).")
  private String finishedAt;

  @JsonPropertyDescription("The recorded fingerprint the check compares the live schema with.")
  private String comparedWith;

  @JsonPropertyDescription(
      "NoDrift, Drifted, Skipped (a migration held the run lock: tried again soon) or Failed;"
          + " absent while the Job runs.")
  private CheckOutcome outcome;

  @JsonPropertyDescription("Why the check failed or was skipped.")
  private String message;

  @JsonPropertyDescription("How many checks in a row have failed, this one included.")
  private Integer failures;

  @JsonPropertyDescription("How long the check Job took, from its creation to its completion.")
  private Long seconds;

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

  public String getComparedWith() {
    return comparedWith;
  }

  public void setComparedWith(String comparedWith) {
    this.comparedWith = comparedWith;
  }

  public CheckOutcome getOutcome() {
    return outcome;
  }

  public void setOutcome(CheckOutcome outcome) {
    this.outcome = outcome;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public Long getSeconds() {
    return seconds;
  }

  public void setSeconds(Long seconds) {
    this.seconds = seconds;
  }

  public Integer getFailures() {
    return failures;
  }

  public void setFailures(Integer failures) {
    this.failures = failures;
  }
}
