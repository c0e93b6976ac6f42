package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A pod whose scheduling gate someone other than the operator removed while the revision it needs
 * was not in place: a person of a group the chart allows to (gate.liftAllowedGroups), or anyone
 * where no guard policy is rendered. The pod runs on a schema it was held back from.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GateLift {
  @JsonPropertyDescription("The pod, in the DatabaseMigration's namespace.")
  private String pod;

  @JsonPropertyDescription("When the operator saw it without its gate (RFC 3339).")
  private String at;

  @JsonPropertyDescription("What the pod waited for when its gate was removed.")
  private String waitedFor;

  public GateLift() {}

  public GateLift(String pod, String at, String waitedFor) {
    this.pod = pod;
    this.at = at;
    this.waitedFor = waitedFor;
  }

  public String getPod() {
    return pod;
  }

  public void setPod(String pod) {
    this.pod = pod;
  }

  public String getAt() {
    return at;
  }

  public void setAt(String at) {
    this.at = at;
  }

  public String getWaitedFor() {
    return waitedFor;
  }

  public void setWaitedFor(String waitedFor) {
    this.waitedFor = waitedFor;
  }
}
