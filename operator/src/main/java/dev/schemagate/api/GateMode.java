package dev.schemagate.api;

/** How a DatabaseMigration holds its app back while the database is not where the app needs it. */
public enum GateMode {
  /**
   * New pods that name this DatabaseMigration wait at a scheduling gate added when they are
   * created, until the revision they need is in place; nothing else is touched.
   */
  Admission,
  /** The Deployments in spec.gate.deployments are paused until the database is at the target. */
  Pause
}
