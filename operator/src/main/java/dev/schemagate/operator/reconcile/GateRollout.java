package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.gate.HeldBy;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.status.EventReason;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Step: hold the gated Deployments while a run is under way or the database is behind the target;
 * release them once it is at the target, or once the expand part of a release is (its contract part
 * runs after the rollout, without holding them again). A Deployment that does not exist yet is held
 * as soon as it appears; one paused by someone else is left as it is. A hold someone else undoes
 * while it is due is restored, with a GateOverridden Event. In Admission mode the pods are held at
 * admission instead, and only a gated Deployment whose pod template does not name this
 * DatabaseMigration (label schemagate.dev/migration) is paused: its pods would not be held.
 */
public final class GateRollout implements Step {
  private final GateMode defaultMode;

  /**
   * @param defaultMode the mode of a DatabaseMigration that sets no spec.gate.mode
   */
  public GateRollout(GateMode defaultMode) {
    this.defaultMode = defaultMode;
  }

  @Override
  public void apply(ReconcileState state) {
    if (appReleased(state)) {
      release(state);
    } else {
      hold(state, PodRequirement.mode(state.resource(), defaultMode));
    }
  }

  /**
   * Whether the app may run: with no run under way, the database is at the target (or the expand
   * part of the release is, its contract part held); the contract part's own run never holds the
   * app, which runs on the expanded schema it leaves in place.
   */
  private static boolean appReleased(ReconcileState state) {
    if (state.runUnderWay()) {
      return state.run().getPart() == MigrationKind.CONTRACT;
    }
    return state.decision().databaseAtTarget()
        || DatabaseState.contractPending(state.resource().getSpec(), state.status()) != null;
  }

  private static void hold(ReconcileState state, GateMode mode) {
    DatabaseMigrationStatus status = state.status();
    List<String> names =
        mode == GateMode.Admission
            ? validGatedNames(state).stream().filter(name -> !heldAtAdmission(state, name)).toList()
            : validGatedNames(state);
    RolloutGate.Held held =
        RolloutGate.hold(state.name(), names, status.getHeldDeployments(), lookup(state));
    status.setHeldDeployments(new ArrayList<>(held.held()));
    state.events().held(held.newlyHeld());
    state.events().released(held.released());
    for (RolloutGate.Override override : held.overridden()) {
      state.events().tell(EventReason.GateOverridden, overridden(state, override));
    }
    state.pausedByOthers(held.pausedByOthers());
    state.changes().patch(held.patches());
  }

  private static void release(ReconcileState state) {
    DatabaseMigrationStatus status = state.status();
    Set<String> names = new LinkedHashSet<>(status.getHeldDeployments());
    names.addAll(validGatedNames(state));
    RolloutGate.Released released = RolloutGate.release(state.name(), names, lookup(state));
    if (!released.names().isEmpty()) {
      state.events().released(released.names());
    }
    state.changes().patch(released.patches());
    status.setHeldDeployments(new ArrayList<>());
  }

  /** Whether the Deployment's pods name this DatabaseMigration, so that admission holds them. */
  private static boolean heldAtAdmission(ReconcileState state, String name) {
    Deployment d = state.cluster().deployment(state.namespace(), name);
    if (d == null || d.getSpec() == null || d.getSpec().getTemplate() == null) {
      return false;
    }
    var labels =
        d.getSpec().getTemplate().getMetadata() == null
            ? null
            : d.getSpec().getTemplate().getMetadata().getLabels();
    return labels != null && state.name().equals(labels.get(PodRequirement.LABEL));
  }

  private static String overridden(ReconcileState state, RolloutGate.Override override) {
    String what;
    if (override.resumed() && override.annotationRemoved()) {
      what = "was resumed and its " + HeldBy.KEY + " annotation removed";
    } else if (override.resumed()) {
      what = "was resumed (spec.paused: false)";
    } else {
      what = "lost its " + HeldBy.KEY + " annotation";
    }
    return override.name()
        + " "
        + what
        + " while the database is not at "
        + state.resource().getSpec().getTargetRevision()
        + ": held it again. To let it go before the migration, remove it from"
        + " spec.gate.deployments";
  }

  private static List<String> validGatedNames(ReconcileState state) {
    return RolloutGate.gatedNames(state.resource()).stream()
        .filter(Names::isValidObjectName)
        .toList();
  }

  private static Function<String, Deployment> lookup(ReconcileState state) {
    return name -> state.cluster().deployment(state.namespace(), name);
  }
}
