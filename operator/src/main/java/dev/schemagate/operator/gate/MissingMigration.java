package dev.schemagate.operator.gate;

/**
 * What admission does with a pod that names a DatabaseMigration (label schemagate.dev/migration)
 * that does not exist in its namespace: never created, misspelt, deleted, or not applied yet (a
 * GitOps sync that brings the app first). The cluster admin chooses it for both admission paths
 * alike (the chart's gate.admission.missingMigration), and the operator reports such pods either
 * way: a Warning Event on their Deployment and the gauge schemagate_missing_migration_pods.
 */
public enum MissingMigration {
  /**
   * Fail closed: the pod is admitted and waits at the scheduling gate until that DatabaseMigration
   * exists and the database has what the pod needs (then the operator lifts the gate). What it
   * needs cannot be known, so it is not run on a guess.
   */
  Hold,
  /** Fail open: the pod is admitted without the gate and runs at once. */
  Admit
}
