package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.status.Conditions;
import dev.schemagate.operator.status.DriftCondition;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.StatusComposer;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.Objects;
import java.util.Optional;

/**
 * Step: compose phase and conditions from the run under way or, with none, from the decision; then
 * RolloutHeld from the gate, and Drifted from what the drift checks found. A new Stalled reason,
 * and a run that begins to wait for a drift to be acknowledged, are told as Events.
 */
public final class ComposeStatus {
  private ComposeStatus() {}

  public static void apply(ReconcileState state) {
    DatabaseMigrationStatus status = state.status();
    long generation = state.generation();
    if (state.runUnderWay()) {
      StatusComposer.running(status, state.run(), state.runState(), generation, state.now());
    } else {
      StatusComposer.idle(status, state.decision(), generation, state.now());
    }
    tellNewStalledReason(state);
    StatusComposer.rollout(
        status,
        state.pausedByOthers(),
        state.heldPodCount(),
        state.podsWaitFor(),
        state.deadlineWarnings(),
        generation,
        state.now());
    DriftCondition.apply(status, state.resource().getSpec().getDrift(), generation, state.now());
    tellNewDriftBlock(state);
    StatusComposer.redact(status);
  }

  /** A run held back by drift is told once, when it begins to wait. */
  private static void tellNewDriftBlock(ReconcileState state) {
    Optional<Condition> now =
        Conditions.find(state.status().getConditions(), Conditions.READY)
            .filter(c -> Reasons.DRIFT_BLOCKED.equals(c.getReason()));
    boolean before =
        Conditions.find(state.before().getConditions(), Conditions.READY)
            .filter(c -> Reasons.DRIFT_BLOCKED.equals(c.getReason()))
            .isPresent();
    if (now.isPresent() && !before) {
      state.events().tell(EventReason.DriftBlocked, now.get().getMessage());
    }
  }

  private static void tellNewStalledReason(ReconcileState state) {
    Optional<Condition> now = stalled(state.status());
    if (now.isEmpty()) {
      return;
    }
    Optional<Condition> previous = stalled(state.before());
    boolean changed =
        previous.isEmpty() || !Objects.equals(previous.get().getReason(), now.get().getReason());
    EventReason reason = EventReason.forStalledReason(now.get().getReason());
    if (changed && reason != null) {
      state.events().tell(reason, now.get().getMessage());
    }
  }

  private static Optional<Condition> stalled(DatabaseMigrationStatus status) {
    return Conditions.find(status.getConditions(), Conditions.STALLED)
        .filter(c -> "True".equals(c.getStatus()));
  }
}
