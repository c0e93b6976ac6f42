package dev.schemagate.operator.status;

import dev.schemagate.api.Phase;
import dev.schemagate.api.Reason;

/**
 * What a reconcile concludes of a DatabaseMigration, in one place: its phase, whether it is Ready,
 * and why. Reconciling and Stalled follow from the phase alone: a resource that is Migrating or
 * Pending is still on its way, and so is one Contracting (the contract part of a release runs); a
 * Failed one needs a person, and so does one whose contract part waits on a stuck rollout. Every
 * other phase (Ready, Suspended, AwaitingApproval, DriftBlocked, RollingOut) is neither: it rests,
 * or waits for a person's word or for the app's rollout.
 */
public record Verdict(Phase phase, boolean ready, Reason reason, String message) {

  /** Reconciling=True: the resource is on its way to Ready. */
  public boolean reconciling() {
    return phase == Phase.Migrating || phase == Phase.Pending || phase == Phase.Contracting;
  }

  /** Stalled=True: it gets no further without a person. */
  public boolean stalled() {
    return phase == Phase.Failed || reason == Reason.RolloutStuck;
  }
}
