package dev.schemagate.api;

/** Whether a target below the current revision may be migrated down to. */
public enum DowngradePolicy {
  Forbid,
  Allow
}
