package dev.schemagate.operator.status;

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
  PodsRejected(true),
  PodUnschedulable(true),
  NonRootUserRequired(true),
  JobDeleted(true),
  GateOverridden(true),
  DeletionWaitsForRun(false),
  PlanStarted(false),
  PlanReady(false),
  PlanFailed(true),
  DriftDetected(true),
  DriftResolved(false),
  DriftCheckFailed(true),
  DriftBlocked(true);

  private final boolean warning;

  EventReason(boolean warning) {
    this.warning = warning;
  }

  public String type() {
    return warning ? "Warning" : "Normal";
  }

  /** The event reason for a Stalled condition reason, if it has its own. */
  public static EventReason forStalledReason(String reason) {
    for (EventReason r : values()) {
      if (r.warning && r.name().equals(reason)) {
        return r;
      }
    }
    return null;
  }
}
