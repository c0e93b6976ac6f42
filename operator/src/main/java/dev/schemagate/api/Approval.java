package dev.schemagate.api;

/** Whether an upgrade runs as soon as it is needed, or after its plan is approved. */
public enum Approval {
  Automatic,
  Manual
}
