package dev.schemagate.api;

/** What a drifted schema does to the next run (spec.drift.onDrift). */
public enum OnDrift {
  /** The Drifted condition, an Event and a metric say so; runs go on. */
  Report,
  /** The same, and a new run waits until the live schema is acknowledged. */
  Block
}
