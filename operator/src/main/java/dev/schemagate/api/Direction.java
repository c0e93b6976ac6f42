package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The direction of a run, as given to the Job in {@code SCHEMAGATE_DIRECTION}. */
public enum Direction {
  @JsonProperty("upgrade")
  UPGRADE,
  @JsonProperty("downgrade")
  DOWNGRADE,
  /** The plan of an upgrade: what it would apply, changing nothing. */
  @JsonProperty("plan")
  PLAN,
  /** A drift check: reads the live schema's fingerprint, changing nothing. */
  @JsonProperty("check")
  CHECK;

  /** The word used in the Job's environment and in status. */
  public String word() {
    return switch (this) {
      case UPGRADE -> "upgrade";
      case DOWNGRADE -> "downgrade";
      case PLAN -> "plan";
      case CHECK -> "check";
    };
  }
}
