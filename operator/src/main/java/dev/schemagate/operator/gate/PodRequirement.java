package dev.schemagate.operator.gate;

import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.base.Versions;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSchedulingGate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a pod that depends on a DatabaseMigration needs before it may run, and whether the database
 * has it. The admission webhook, the chart's admission policy (the same rule in CEL) and the step
 * that lifts the gate all decide by it. Pure.
 */
public final class PodRequirement {
  /** On a pod: the name of the DatabaseMigration (same namespace) whose database it uses. */
  public static final String LABEL = "schemagate.dev/migration";

  /** On a pod: the revision it needs; absent, the target of its DatabaseMigration. */
  public static final String REQUIRES = "schemagate.dev/requires-revision";

  /** The scheduling gate a pod waits at. */
  public static final String GATE = "schemagate.dev/migration";

  private PodRequirement() {}

  /** The DatabaseMigration the pod names, or null. */
  public static String migration(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels == null ? null : labels.get(LABEL);
  }

  /** The revision the pod requires, or null for the target of its DatabaseMigration. */
  public static String required(Pod pod) {
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(REQUIRES);
    return value == null || value.isEmpty() ? null : value;
  }

  /** The mode of a DatabaseMigration: its own, or the operator's default. */
  public static GateMode mode(DatabaseMigration dbm, GateMode defaultMode) {
    return dbm.getSpec().getGate() != null && dbm.getSpec().getGate().getMode() != null
        ? dbm.getSpec().getGate().getMode()
        : defaultMode;
  }

  /**
   * Why the pod must wait, or null when what it needs is in place: the revision it requires is
   * among the revisions applied (for Flyway versions, at or below the current one) and no contract
   * migration applied since has removed what it uses, or it belongs to the contract part of the
   * release, which waits for this rollout; without a requirement, the database is at the target of
   * the spec, or the release's expand part is.
   */
  public static String unmet(Pod pod, DatabaseMigration dbm) {
    String required = required(pod);
    DatabaseMigrationStatus status =
        dbm.getStatus() == null ? new DatabaseMigrationStatus() : dbm.getStatus();
    String current = status.getCurrentRevision() == null ? "none" : status.getCurrentRevision();
    if (required == null) {
      return DatabaseState.appReleased(dbm.getSpec(), status)
          ? null
          : "the database is not at the target of DatabaseMigration "
              + dbm.getMetadata().getName()
              + " ("
              + dbm.getSpec().getTargetRevision()
              + ") yet; it is at "
              + current;
    }
    if (inContractPart(required, dbm.getSpec(), status)) {
      return null;
    }
    if (inPlace(required, dbm.getSpec().getTool(), status)) {
      return contractedBy(required, dbm.getSpec().getTool(), status)
          .map(
              contract ->
                  "revision "
                      + required
                      + " of DatabaseMigration "
                      + dbm.getMetadata().getName()
                      + " is contracted: contract migration "
                      + contract
                      + ", applied after it, removed what a pod that requires "
                      + required
                      + " uses (the database is at "
                      + current
                      + "). Roll forward to a template that requires "
                      + contract
                      + " or later, or migrate the database down below "
                      + contract
                      + " (spec.targetRevision with spec.downgrade.policy: Allow)")
          .orElse(null);
    }
    return "revision "
        + required
        + " of DatabaseMigration "
        + dbm.getMetadata().getName()
        + " is not in place yet; the database is at "
        + current;
  }

  /**
   * Whether the revision is one of the contract part of the spec's release that waits for the
   * rollout: the release's app runs on the expanded schema meanwhile, so that it can roll out.
   */
  static boolean inContractPart(
      String required, DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    ContractStatus contract = DatabaseState.contractPending(spec, status);
    return contract != null
        && (required.equals(contract.getTargetRevision())
            || contract.getPending().stream().anyMatch(m -> required.equals(m.getRevision())));
  }

  /**
   * The first migration of the spec's pending contract part that would contract the revision: the
   * revision is in place and not of the contract part, so the contract part, once applied, stands
   * between it and the database (a pod that requires it would then be held, and one that runs would
   * lose what it uses). Null when no contract part waits or the revision survives it.
   */
  public static String contractedByPending(
      String required, DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    ContractStatus contract = DatabaseState.contractPending(spec, status);
    if (contract == null
        || contract.getPending().isEmpty()
        || inContractPart(required, spec, status)
        || !inPlace(required, spec.getTool(), status)) {
      return null;
    }
    return contract.getPending().get(0).getRevision();
  }

  /**
   * The first contract migration in place that was applied after the revision (by the order of
   * status.appliedRevisions, or for whole Flyway versions by number): a pod that requires the
   * revision needs what it removed. Empty when none stands between the revision and the database.
   */
  public static Optional<String> contractedBy(
      String required, Tool tool, DatabaseMigrationStatus status) {
    List<String> contracts = status.getContractRevisions();
    if (contracts == null || contracts.isEmpty()) {
      return Optional.empty();
    }
    List<String> applied =
        status.getAppliedRevisions() == null ? List.of() : status.getAppliedRevisions();
    int at = applied.indexOf(required);
    for (String contract : contracts) {
      int index = applied.indexOf(contract);
      boolean after =
          at >= 0 && index >= 0
              ? index > at
              : tool == Tool.FLYWAY
                  && required.matches("\\d+")
                  && contract.matches("\\d+")
                  && Versions.compare(contract, required) > 0;
      if (after) {
        return Optional.of(contract);
      }
    }
    return Optional.empty();
  }

  /**
   * In place: among the revisions applied, or, for Flyway versions that are whole numbers (the
   * admission policy's CEL compares those the same way), at or below the current one.
   */
  static boolean inPlace(String required, Tool tool, DatabaseMigrationStatus status) {
    if (status.getAppliedRevisions() != null && status.getAppliedRevisions().contains(required)) {
      return true;
    }
    String current = status.getCurrentRevision();
    return tool == Tool.FLYWAY
        && required.matches("\\d+")
        && current != null
        && current.matches("\\d+")
        && Versions.compare(required, current) <= 0;
  }

  /**
   * Whether admission holds a new pod at the gate, and why; empty when it goes ahead. A pod whose
   * DatabaseMigration does not exist waits for it or goes ahead, as the cluster admin chose ({@link
   * MissingMigration}); one whose DatabaseMigration holds its app by pausing Deployments goes
   * ahead.
   */
  public static Optional<String> admission(
      Pod pod, DatabaseMigration dbm, GateMode defaultMode, MissingMigration missing) {
    if (dbm == null) {
      return missing == MissingMigration.Hold
          ? Optional.of(
              "DatabaseMigration "
                  + migration(pod)
                  + " does not exist: the pod waits until it exists and the revision it needs is"
                  + " in place")
          : Optional.empty();
    }
    if (mode(dbm, defaultMode) != GateMode.Admission) {
      return Optional.empty();
    }
    return Optional.ofNullable(unmet(pod, dbm));
  }

  /** Whether the pod waits at this gate. */
  public static boolean gated(Pod pod) {
    return gateIndex(pod) >= 0;
  }

  /** The position of this gate among the pod's scheduling gates, or -1. */
  public static int gateIndex(Pod pod) {
    List<PodSchedulingGate> gates =
        pod.getSpec() == null ? null : pod.getSpec().getSchedulingGates();
    if (gates == null) {
      return -1;
    }
    for (int i = 0; i < gates.size(); i++) {
      if (GATE.equals(gates.get(i).getName())) {
        return i;
      }
    }
    return -1;
  }
}
