package dev.schemagate.operator.plan;

import dev.schemagate.api.ContractMode;
import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.gate.RolloutProgress;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunPart;
import dev.schemagate.operator.run.RunRecorder;
import java.util.ArrayList;
import java.util.List;

/**
 * The contract part of a release (the migrations from its first contract migration to the target,
 * held back by the run that applied its expand part) runs only once every gated workload has rolled
 * out completely, never while a rollout is stuck, and with spec.contract: Manual only once
 * spec.approvedContract equals its hash. Pure.
 */
public final class ContractPolicy {
  private ContractPolicy() {}

  /** A hold ({@link RunPlanner#HOLDS}): the run of a contract part waits for the rollout. */
  static Decision hold(DatabaseMigration dbm, Decision.Start start, UnderWay underWay) {
    RunInputs run = start.run();
    ContractStatus contract = DatabaseState.contractPending(dbm.getSpec(), dbm.getStatus());
    if (run.part() != RunPart.CONTRACT || contract == null) {
      return start;
    }
    RolloutProgress rollout = underWay.rollout();
    String what = "the contract part (" + RunRecorder.describe(contract.getPending()) + ")";
    if (!rollout.stuck().isEmpty()) {
      return new Decision.ContractHeld(
          ContractPhase.RolloutStuck,
          rollout.stuck(),
          run,
          what
              + " does not run while the rollout is stuck: "
              + String.join("; ", rollout.stuck())
              + ". Fix the rollout (or roll it back, within the expanded schema); the contract"
              + " part runs once it has completed");
    }
    if (!rollout.complete()) {
      return new Decision.ContractHeld(
          ContractPhase.AwaitingRollout,
          rollout.waiting(),
          run,
          "expand part in place at revision "
              + contract.getExpandRevision()
              + "; "
              + what
              + " runs once every gated workload has rolled out; waiting for "
              + String.join(", ", rollout.waiting()));
    }
    if (dbm.getSpec().getContract() == ContractMode.Manual
        && !contract.getHash().equals(dbm.getSpec().getApprovedContract())) {
      return new Decision.ContractHeld(
          ContractPhase.AwaitingApproval,
          new ArrayList<>(List.of()),
          run,
          "the rollout is complete; "
              + what
              + " awaits approval: set spec.approvedContract: "
              + contract.getHash());
    }
    return start;
  }
}
