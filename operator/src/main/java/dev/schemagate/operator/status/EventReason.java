package dev.schemagate.operator.status;

import dev.schemagate.api.Reason;

/** The fixed set of reasons of the Kubernetes Events the operator emits. */
public enum EventReason {
  RunStarted(false),
  JobAdopted(false),
  RunSucceeded(false),
  RunFailed(true),
  RunSuperseded(true),
  RolloutHeld(false),
  RolloutReleased(false),
  DowngradeForbidden(true),
  InvalidSpec(true),
  PolicyViolation(true),
  SecretNotFound(true),
  ImagePullFailed(true),
  ContainerCreateFailed(true),
  JobRejected(true),
  GateRejected(true),
  PodGateRejected(true),
  PlanRejected(true),
  StatusRejected(true),
  CleanupRejected(true),
  PodsRejected(true),
  PodUnschedulable(true),
  NonRootUserRequired(true),
  JobDeleted(true),
  ForeignJob(true),
  ForeignPod(true),
  GateOverridden(true),
  GateLiftedByOthers(true),
  MigrationNotFound(true),
  DeletionWaitsForRun(false),
  PlanStarted(false),
  PlanReady(false),
  PlanFailed(true),
  DriftDetected(true),
  DriftResolved(false),
  DriftCheckFailed(true),
  DriftBlocked(true),
  RolloutComplete(false),
  RolloutStuck(true),
  SchemaContracted(true);

  private final boolean warning;

  EventReason(boolean warning) {
    this.warning = warning;
  }

  public String type() {
    return warning ? "Warning" : "Normal";
  }

  /** The event reason for a Stalled condition reason, if it has its own. */
  public static EventReason forStalledReason(Reason reason) {
    for (EventReason r : values()) {
      if (r.warning && r.name().equals(reason.name())) {
        return r;
      }
    }
    return null;
  }
}
