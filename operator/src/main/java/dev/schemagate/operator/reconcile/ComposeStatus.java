package dev.schemagate.operator.reconcile;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.plan.Decision;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.DriftCondition;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.MigrationState;
import dev.schemagate.operator.status.StatusComposer;
import dev.schemagate.operator.status.Verdict;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Step: the verdict, from the run under way or, with none, from the decision, sets phase, Ready,
 * Reconciling and Stalled ({@link StatusComposer}); then RolloutHeld from the gate, and Drifted
 * from what the drift checks found. A new Stalled reason, and a run that begins to wait for a drift
 * to be acknowledged, are told as Events.
 */
public final class ComposeStatus implements Step {

  @Override
  public void apply(ReconcileState state) {
    DatabaseMigrationStatus status = state.status();
    Conditions at = new Conditions(state.generation(), state.now());
    Verdict verdict =
        state.writeRefused() != null
            ? StatusComposer.verdict(state.writeRefused(), status)
            : state.runUnderWay()
                ? StatusComposer.verdict(state.run(), state.runState())
                : StatusComposer.verdict(state.decision(), status);
    StatusComposer.apply(status, verdict, at);
    followContract(state);
    tellNewStalledReason(state, verdict);
    StatusComposer.rollout(status, state.rollout(), at);
    tellNewContractedHold(state);
    DriftCondition.apply(status, state.resource().getSpec().getDrift(), at);
    tellNewDriftBlock(state, verdict);
    StatusComposer.redact(status);
    state
        .measurements()
        .composed(MigrationState.of(status, state.rollout().heldPods(), state.now()));
  }

  /**
   * status.contract, from the contract part's run under way or what holds it: its phase, what it
   * waits for, and when the rollout was seen complete (told once, as a RolloutComplete Event).
   */
  private static void followContract(ReconcileState state) {
    DatabaseMigrationStatus status = state.status();
    ContractStatus contract = status.getContract();
    if (contract == null) {
      return;
    }
    boolean running = state.runUnderWay() && state.run().getPart() == MigrationKind.CONTRACT;
    Decision.ContractHeld held =
        !state.runUnderWay() && state.decision() instanceof Decision.ContractHeld h ? h : null;
    if (!running && held == null) {
      return;
    }
    ContractPhase phase = running ? ContractPhase.Contracting : held.phase();
    if (running || phase == ContractPhase.AwaitingApproval) {
      if (contract.getRolloutCompletedAt() == null) {
        contract.setRolloutCompletedAt(Time.format(state.now()));
        state
            .events()
            .tell(
                EventReason.RolloutComplete,
                "every gated workload has rolled out onto revision "
                    + contract.getExpandRevision()
                    + (running
                        ? ": the contract part runs (Job " + state.run().getJob() + ")"
                        : ": the contract part awaits approval (spec.approvedContract: "
                            + contract.getHash()
                            + ")"));
      }
    } else {
      contract.setRolloutCompletedAt(null);
    }
    contract.setPhase(phase);
    contract.setWaitingFor(
        new ArrayList<>(running ? List.of() : held.waitingFor().stream().limit(20).toList()));
    contract.setAwaitingApproval(
        phase == ContractPhase.AwaitingApproval ? contract.getHash() : null);
    contract.setMessage(
        running ? "the contract part runs (Job " + state.run().getJob() + ")" : held.message());
  }

  /** Pods held because their revision is contracted (a rollback) are told once, as they begin. */
  private static void tellNewContractedHold(ReconcileState state) {
    boolean before =
        Conditions.isTrue(state.before().getConditions(), Conditions.ROLLOUT_HELD)
            .filter(c -> Reason.SchemaContracted.name().equals(c.getReason()))
            .isPresent();
    boolean now =
        Conditions.isTrue(state.status().getConditions(), Conditions.ROLLOUT_HELD)
            .filter(c -> Reason.SchemaContracted.name().equals(c.getReason()))
            .isPresent();
    if (now && !before) {
      state.events().tell(EventReason.SchemaContracted, message(state, Conditions.ROLLOUT_HELD));
    }
  }

  /** A run held back by drift is told once, when it begins to wait. */
  private static void tellNewDriftBlock(ReconcileState state, Verdict verdict) {
    boolean before =
        Conditions.find(state.before().getConditions(), Conditions.READY)
            .filter(c -> Reason.DriftBlocked.name().equals(c.getReason()))
            .isPresent();
    if (verdict.reason() == Reason.DriftBlocked && !before) {
      state.events().tell(EventReason.DriftBlocked, message(state, Conditions.READY));
    }
  }

  private static void tellNewStalledReason(ReconcileState state, Verdict verdict) {
    if (!verdict.stalled()) {
      return;
    }
    Optional<Condition> previous =
        Conditions.isTrue(state.before().getConditions(), Conditions.STALLED);
    boolean changed =
        previous.isEmpty() || !Objects.equals(previous.get().getReason(), verdict.reason().name());
    EventReason reason = EventReason.forStalledReason(verdict.reason());
    if (changed && reason != null) {
      state.events().tell(reason, message(state, Conditions.STALLED));
    }
  }

  /** The message of a condition as the status now has it. */
  private static String message(ReconcileState state, String type) {
    return Conditions.find(state.status().getConditions(), type)
        .map(Condition::getMessage)
        .orElse("");
  }
}
