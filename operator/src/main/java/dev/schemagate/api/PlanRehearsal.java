package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** How the rehearsal of a plan went: the pending migrations run in one transaction, rolled back. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlanRehearsal {
  @JsonPropertyDescription("Succeeded or Failed.")
  private String outcome;

  @JsonPropertyDescription("How long the rehearsed migrations took, in milliseconds.")
  private Long durationMs;

  @JsonPropertyDescription("The migration that failed.")
  private String failedRevision;

  @JsonPropertyDescription("Why it failed.")
  private String message;

  @JsonPropertyDescription(
      "Migrations not rehearsed: one that cannot run in a transaction, and the ones after it.")
  private List<String> notRehearsed;

  @JsonPropertyDescription("The sessions the rehearsal waited for a lock on, per migration.")
  private List<String> lockWaits;

  public String getOutcome() {
    return outcome;
  }

  public void setOutcome(String outcome) {
    this.outcome = outcome;
  }

  public Long getDurationMs() {
    return durationMs;
  }

  public void setDurationMs(Long durationMs) {
    this.durationMs = durationMs;
  }

  public String getFailedRevision() {
    return failedRevision;
  }

  public void setFailedRevision(String failedRevision) {
    this.failedRevision = failedRevision;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public List<String> getNotRehearsed() {
    return notRehearsed;
  }

  public void setNotRehearsed(List<String> notRehearsed) {
    this.notRehearsed = notRehearsed;
  }

  public List<String> getLockWaits() {
    return lockWaits;
  }

  public void setLockWaits(List<String> lockWaits) {
    this.lockWaits = lockWaits;
  }
}
