package dev.schemagate.api;

/** The lifecycle phase shown in {@code kubectl get dbm}. */
public enum Phase {
  Pending,
  Migrating,
  Ready,
  Failed,
  Suspended,
  /** spec.approval: Manual: the plan waits for spec.approvedPlan to equal its hash. */
  AwaitingApproval,
  /** spec.drift.onDrift: Block: a run waits until the drifted schema is acknowledged. */
  DriftBlocked,
  /**
   * The expand part of a release is in place and the app released; its contract part waits until
   * every gated workload has rolled out.
   */
  RollingOut,
  /** The contract part of a release runs, after the rollout. */
  Contracting
}
