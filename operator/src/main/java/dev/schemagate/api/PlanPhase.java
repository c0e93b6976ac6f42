package dev.schemagate.api;

/** Where the plan of an upgrade stands (spec.approval: Manual): status.plan.phase. */
public enum PlanPhase {
  /** The plan Job runs. */
  Planning,
  /** The plan is made and waits for spec.approvedPlan to equal its hash. */
  AwaitingApproval,
  /** spec.approvedPlan equals the plan's hash: the run starts with it. */
  Approved,
  /** The plan Job failed, or reported no plan. */
  Failed
}
