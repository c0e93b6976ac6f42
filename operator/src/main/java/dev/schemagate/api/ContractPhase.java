package dev.schemagate.api;

/** Where the contract part of a release stands: status.contract.phase. */
public enum ContractPhase {
  /** The expand part is in place and the app released; the gated workloads roll out. */
  AwaitingRollout,
  /** A gated Deployment reports ProgressDeadlineExceeded: the contract part does not run. */
  RolloutStuck,
  /** spec.contract: Manual: the rollout is complete; the contract part waits for its approval. */
  AwaitingApproval,
  /** The contract part's Job runs. */
  Contracting,
  /** The contract part is applied: the database is at the release's target. */
  Completed,
  /** The contract part's Job failed. */
  Failed
}
