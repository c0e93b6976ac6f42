package dev.schemagate.operator.run;

/**
 * Which migrations an upgrade's Job applies (the Job contract's SCHEMAGATE_CONTRACT). A release
 * whose pending migrations include contract migrations runs in two parts while apps run against the
 * database: the expand part, then, once they have rolled out, the contract part.
 */
public enum RunPart {
  /** Every migration to the target (SCHEMAGATE_CONTRACT=apply): nothing runs against the schema. */
  ALL,
  /** Every migration before the first contract migration (SCHEMAGATE_CONTRACT=hold). */
  EXPAND,
  /** The contract part, after the rollout (SCHEMAGATE_CONTRACT=apply). */
  CONTRACT;

  /** The value of SCHEMAGATE_CONTRACT. */
  public String contractSetting() {
    return this == EXPAND ? "hold" : "apply";
  }

  /** The word on a Job's annotation; null for ALL (no annotation). */
  String word() {
    return switch (this) {
      case ALL -> null;
      case EXPAND -> "expand";
      case CONTRACT -> "contract";
    };
  }

  static RunPart of(String word) {
    if ("expand".equals(word)) {
      return EXPAND;
    }
    return "contract".equals(word) ? CONTRACT : ALL;
  }
}
