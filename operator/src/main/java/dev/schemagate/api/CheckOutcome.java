package dev.schemagate.api;

/** How a drift check ended: status.drift.check.outcome. */
public enum CheckOutcome {
  /** The live schema is the recorded one. */
  NoDrift,
  /** The live schema differs from the recorded one. */
  Drifted,
  /**
   * A migration held the run lock (or a run recorded another schema meanwhile): tried again soon.
   */
  Skipped,
  /** The check could not read the live schema. */
  Failed
}
