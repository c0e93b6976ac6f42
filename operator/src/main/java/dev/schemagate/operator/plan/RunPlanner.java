package dev.schemagate.operator.plan;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Reasons;
import dev.schemagate.operator.run.AppliedRevisions;
import dev.schemagate.operator.run.RunInputs;
import java.util.List;
import java.util.Objects;

/**
 * Decides, from the resource alone, whether a run is needed, in which direction and with which
 * image. Pure: no I/O.
 */
public final class RunPlanner {
  /** On a DatabaseMigration: a new value asks for a failed run to be tried again. */
  public static final String RETRY = DatabaseMigration.GROUP + "/retry";

  /** How many times in a row a run whose Job was deleted mid-way is started again by itself. */
  static final int MAX_RERUNS = 3;

  private RunPlanner() {}

  public static Decision decide(DatabaseMigration dbm) {
    DatabaseMigrationSpec spec = dbm.getSpec();
    DatabaseMigrationStatus status =
        dbm.getStatus() == null ? new DatabaseMigrationStatus() : dbm.getStatus();
    boolean runNeeded = isRunNeeded(spec, status);

    List<String> problems = SpecValidator.problems(spec);
    if (!problems.isEmpty()) {
      return new Decision.Refused(Reasons.INVALID_SPEC, String.join("; ", problems), runNeeded);
    }
    if (!runNeeded) {
      return Boolean.TRUE.equals(spec.getSuspend())
          ? new Decision.Suspended(false)
          : new Decision.UpToDate();
    }

    String target = spec.getTargetRevision();
    String current = status.getCurrentRevision();
    boolean down =
        RevisionLineage.isBelowCurrent(
            target, current, AppliedRevisions.of(status), spec.getTool() == Tool.FLYWAY);
    if (down && downgradePolicy(spec) != DowngradePolicy.Allow) {
      return new Decision.Refused(
          Reasons.DOWNGRADE_FORBIDDEN,
          "spec.targetRevision "
              + target
              + " is below the current revision "
              + current
              + "; set spec.downgrade.policy: Allow to migrate down with "
              + status.getCurrentImage()
              + ", or set spec.targetRevision back to "
              + current,
          true);
    }
    if (Boolean.TRUE.equals(spec.getSuspend())) {
      return new Decision.Suspended(true);
    }

    Direction direction = down ? Direction.DOWNGRADE : Direction.UPGRADE;
    String image = down ? status.getCurrentImage() : spec.getImage();
    long generation = Objects.requireNonNullElse(dbm.getMetadata().getGeneration(), 0L);
    String retry =
        dbm.getMetadata().getAnnotations() == null
            ? ""
            : dbm.getMetadata().getAnnotations().getOrDefault(RETRY, "");
    String id =
        Names.hash(
            dbm.getMetadata().getUid(),
            image,
            spec.getImage(),
            target,
            direction.word(),
            Long.toString(generation),
            retry);
    // A run whose Job was deleted before it told its outcome runs again, under a new id, up to
    // MAX_RERUNS times in a row; any other recorded outcome waits for a spec change or a retry.
    for (int reruns = 0; ; reruns++) {
      HistoryEntry previous = recorded(status, id);
      if (previous == null) {
        break;
      }
      if (!Reasons.JOB_DELETED.equals(previous.getReason()) || reruns == MAX_RERUNS) {
        return new Decision.AwaitingRetry(previous);
      }
      id = Names.hash(id, "rerun");
    }
    return new Decision.Start(
        new RunInputs(
            id,
            Names.jobName(dbm.getMetadata().getName(), id),
            direction,
            image,
            spec.getImage(),
            target,
            current,
            generation));
  }

  private static HistoryEntry recorded(DatabaseMigrationStatus status, String id) {
    return status.getHistory().stream().filter(h -> id.equals(h.getId())).findFirst().orElse(null);
  }

  static boolean isRunNeeded(DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    return !DatabaseState.atTarget(spec, status);
  }

  private static DowngradePolicy downgradePolicy(DatabaseMigrationSpec spec) {
    return spec.getDowngrade() == null ? DowngradePolicy.Forbid : spec.getDowngrade().getPolicy();
  }
}
