package dev.schemagate.api;

/** When the contract part of a release runs, once every gated workload has rolled out. */
public enum ContractMode {
  /** At once. */
  Automatic,
  /** Once spec.approvedContract equals status.contract.hash. */
  Manual
}
