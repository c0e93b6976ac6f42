package dev.schemagate.api;

/** How a finished run ended. */
public enum Outcome {
  Succeeded,
  Failed
}
