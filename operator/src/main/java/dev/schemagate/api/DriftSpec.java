package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Drift detection: a check Job reads the live schema's fingerprint every interval and compares it
 * with the one the last successful run recorded.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "!has(self.onDrift) || self.onDrift != 'Block' || has(self.interval)",
    message =
        "spec.drift.onDrift: Block needs spec.drift.interval (for example 10m): with no checks no"
            + " drift is found to block on",
    fieldPath = ".interval",
    reason = "FieldValueRequired")
public class DriftSpec {
  @Pattern("^([0-9]+(s|m|h))+$")
  @Size(max = 16)
  @ValidationRule(
      value = "duration(self) >= duration('5s')",
      message =
          "spec.drift.interval must be at least 5s: each check is a Job (10m is a common choice)")
  @JsonPropertyDescription(
      "How often a check Job compares the live schema with the fingerprint the last successful run"
          + " recorded: a duration such as 30s, 10m or 1h (at least 5s). Unset: no checks. No"
          + " check runs while a run or a plan of this resource does.")
  private String interval;

  @Default("Report")
  @JsonPropertyDescription(
      "Report (default): a drift sets the Drifted condition, a Warning Event DriftDetected and a"
          + " metric; runs go on. Block: the same, and a new run waits (phase DriftBlocked, the app"
          + " held) until spec.drift.acknowledged equals the live fingerprint"
          + " (status.drift.live.fingerprint) or the schema is put back.")
  private OnDrift onDrift = OnDrift.Report;

  @Pattern("^[0-9a-f]{16}$")
  @JsonPropertyDescription(
      "The live schema's fingerprint (status.drift.live.fingerprint) a person accepts: with"
          + " onDrift: Block, a run waits no more for that drift. A drift to another schema is not"
          + " acknowledged by it.")
  private String acknowledged;

  public String getInterval() {
    return interval;
  }

  public void setInterval(String interval) {
    this.interval = interval;
  }

  public OnDrift getOnDrift() {
    return onDrift;
  }

  public void setOnDrift(OnDrift onDrift) {
    this.onDrift = onDrift;
  }

  public String getAcknowledged() {
    return acknowledged;
  }

  public void setAcknowledged(String acknowledged) {
    this.acknowledged = acknowledged;
  }
}
