package dev.schemagate.operator.gate;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.base.Versions;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSchedulingGate;
import java.util.List;
import java.util.Map;

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
   * among the revisions applied (for Flyway versions, at or below the current one); without a
   * requirement, the database is at the target of the spec.
   */
  public static String unmet(Pod pod, DatabaseMigration dbm) {
    String required = required(pod);
    DatabaseMigrationStatus status =
        dbm.getStatus() == null ? new DatabaseMigrationStatus() : dbm.getStatus();
    String current = status.getCurrentRevision() == null ? "none" : status.getCurrentRevision();
    if (required == null) {
      return DatabaseState.atTarget(dbm.getSpec(), status)
          ? null
          : "the database is not at the target of DatabaseMigration "
              + dbm.getMetadata().getName()
              + " ("
              + dbm.getSpec().getTargetRevision()
              + ") yet; it is at "
              + current;
    }
    if (inPlace(required, dbm.getSpec().getTool(), status)) {
      return null;
    }
    return "revision "
        + required
        + " of DatabaseMigration "
        + dbm.getMetadata().getName()
        + " is not in place yet; the database is at "
        + current;
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
   * DatabaseMigration does not exist (yet) waits for it; one whose DatabaseMigration holds its app
   * by pausing Deployments goes ahead.
   */
  public static java.util.Optional<String> admission(
      Pod pod, DatabaseMigration dbm, GateMode defaultMode) {
    if (dbm == null) {
      return java.util.Optional.of("DatabaseMigration " + migration(pod) + " does not exist (yet)");
    }
    if (mode(dbm, defaultMode) != GateMode.Admission) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.ofNullable(unmet(pod, dbm));
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
