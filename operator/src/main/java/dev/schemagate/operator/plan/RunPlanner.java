package dev.schemagate.operator.plan;

import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.DatabaseState;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.run.AppliedRevisions;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunPart;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides, from the resource alone, whether a run is needed, in which direction and with which
 * image; then, for a run that may start, what holds it back ({@link #HOLDS}, asked in their order).
 * Pure: no I/O.
 */
public final class RunPlanner {
  /** On a DatabaseMigration: a new value asks for a failed run to be tried again. */
  public static final String RETRY = DatabaseMigration.GROUP + "/retry";

  /** How many times in a row a run whose Job was deleted mid-way is started again by itself. */
  static final int MAX_RERUNS = 3;

  /**
   * What may hold back a run that may start, asked in this order: the first that holds it is the
   * decision. Each gives back the run, as it may start, or what holds it.
   */
  static final List<Hold> HOLDS =
      List.of(
          // a Job of a run that carries the resource's marks but is not its own still runs: a
          // migration of unknown origin may be changing the database, and two never run at once
          RunPlanner::foreignRunning,
          // spec.drift.onDrift: Block: a drift that no one acknowledged holds every run
          DriftPolicy::blocks,
          // a drift check under way: a check and a migration of a resource never run together
          DriftPolicy::awaitsCheck,
          // the contract part of a release waits until the gated workloads have rolled out (and,
          // with spec.contract: Manual, for its approval)
          ContractPolicy::hold,
          // spec.approval: Manual: an upgrade waits for its plan, then for the plan's approval; an
          // approved one starts with its plan's hash
          PlanPolicy::hold);

  /** One of {@link #HOLDS}. */
  @FunctionalInterface
  interface Hold {
    Decision apply(DatabaseMigration dbm, Decision.Start start, UnderWay underWay);
  }

  private RunPlanner() {}

  /** A hold: no run starts while a look-alike of a run's Job runs; it is not recorded either. */
  static Decision foreignRunning(DatabaseMigration dbm, Decision.Start start, UnderWay underWay) {
    if (underWay.foreignRuns().isEmpty()) {
      return start;
    }
    return new Decision.Refused(
        Reason.ForeignJob,
        "a Job the operator cannot prove its own runs with this DatabaseMigration's labels and"
            + " annotations: "
            + String.join("; ", underWay.foreignRuns())
            + ". Its result will not be recorded, and no run starts while it runs (never two"
            + " migrations on one database at once): delete it, or let it end",
        true);
  }

  /**
   * The decision: the planner's ({@link #decide(DatabaseMigration, MigrationPolicy)}) and, when a
   * run may start, the first of {@link #HOLDS} that holds it.
   *
   * @param underWay the resource's drift checks and plan Job, as the reconcile found them
   */
  public static Decision decide(DatabaseMigration dbm, MigrationPolicy policy, UnderWay underWay) {
    Decision decision = decide(dbm, policy);
    for (Hold hold : HOLDS) {
      if (!(decision instanceof Decision.Start start)) {
        break;
      }
      decision = hold.apply(dbm, start, underWay);
    }
    return decision;
  }

  /** The decision under the chart's default policy. */
  public static Decision decide(DatabaseMigration dbm) {
    return decide(dbm, MigrationPolicy.DEFAULTS);
  }

  /**
   * The decision under the cluster admin's policy: a run outside it is refused (PolicyViolation),
   * so that no Job is made, and the gated Deployments stay held.
   */
  public static Decision decide(DatabaseMigration dbm, MigrationPolicy policy) {
    DatabaseMigrationSpec spec = dbm.getSpec();
    DatabaseMigrationStatus status =
        dbm.getStatus() == null ? new DatabaseMigrationStatus() : dbm.getStatus();
    boolean runNeeded = isRunNeeded(spec, status);

    List<String> problems = SpecValidator.problems(spec);
    if (!problems.isEmpty()) {
      return new Decision.Refused(Reason.InvalidSpec, String.join("; ", problems), runNeeded);
    }
    if (!runNeeded) {
      return Boolean.TRUE.equals(spec.getSuspend())
          ? new Decision.Suspended(false)
          : new Decision.UpToDate(unusedBaseline(spec));
    }

    String target = spec.getTargetRevision();
    String current = status.getCurrentRevision();
    boolean down =
        RevisionLineage.isBelowCurrent(
            target, current, AppliedRevisions.of(status), spec.getTool() == Tool.FLYWAY);
    if (down && downgradePolicy(spec) != DowngradePolicy.Allow) {
      return new Decision.Refused(
          Reason.DowngradeForbidden,
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
    // the image the run is about (a downgrade: the newer image, which holds the down-migrations)
    // and the image its Job runs: that one pinned to the digest that ran, for a run of inputs
    // that already ran and failed (a retry), so that a tag moved since is not picked up
    String image = down ? status.getCurrentImage() : spec.getImage();
    String runImage = down ? image : pinnedRetryImage(spec, status).orElse(image);
    List<String> violations = policy.violations(spec, down ? image : null);
    if (!violations.isEmpty()) {
      return new Decision.Refused(
          Reason.PolicyViolation,
          String.join("; ", violations)
              + ". The policy is the cluster admin's (the operator's chart values, policy.*):"
              + " change the spec, or ask for the policy to allow it",
          true);
    }
    if (Boolean.TRUE.equals(spec.getSuspend())) {
      return new Decision.Suspended(true);
    }

    Direction direction = down ? Direction.DOWNGRADE : Direction.UPGRADE;
    long generation = Objects.requireNonNullElse(dbm.getMetadata().getGeneration(), 0L);
    String retry =
        dbm.getMetadata().getAnnotations() == null
            ? ""
            : dbm.getMetadata().getAnnotations().getOrDefault(RETRY, "");
    ContractStatus contract = DatabaseState.contractPending(spec, status);
    if (contract != null) {
      // the expand part of this release is in place: what is left is its contract part
      String id = Names.hash(dbm.getMetadata().getUid(), "contract", contract.getHash(), retry);
      HistoryEntry previous = recorded(status, id);
      if (previous != null) {
        return new Decision.AwaitingRetry(previous);
      }
      return new Decision.Start(
          new RunInputs(
                  id,
                  Names.jobName(dbm.getMetadata().getName(), id),
                  Direction.UPGRADE,
                  runImage,
                  spec.getImage(),
                  target,
                  current,
                  generation)
              .applying(RunPart.CONTRACT));
    }
    // the run's id (and so its Job's name) hashes what the run is about, never the digest it is
    // pinned to: the same inputs give the same Job in every reconcile, whatever history says
    String id =
        Names.hash(
            dbm.getMetadata().getUid(),
            image,
            spec.getImage(),
            target,
            direction.word(),
            Long.toString(generation),
            retry);
    // A run whose outcome is unknown (its Job deleted before it told it, or no pod of its own told
    // it) runs again, under a new id, up to MAX_RERUNS times in a row; any other recorded outcome
    // waits for a spec change or a retry.
    for (int reruns = 0; ; reruns++) {
      HistoryEntry previous = recorded(status, id);
      if (previous == null) {
        break;
      }
      if (!Reason.of(previous.getReason()).outcomeUnknown() || reruns == MAX_RERUNS) {
        return new Decision.AwaitingRetry(previous);
      }
      id = Names.hash(id, "rerun");
    }
    // an upgrade applies the expand part of a release and holds its contract migrations back
    // until the app has rolled out (a tool that knows no kinds applies everything, as before)
    return new Decision.Start(
        new RunInputs(
                id,
                Names.jobName(dbm.getMetadata().getName(), id),
                direction,
                runImage,
                spec.getImage(),
                target,
                current,
                generation)
            .applying(down ? RunPart.ALL : RunPart.EXPAND));
  }

  /**
   * spec.baseline on a database at its target: a run succeeded, so the database has the tool's
   * history, and a baseline is read only on a database without one. Set, or changed, now it is
   * ignored: said so, with why; "" when there is none.
   */
  static String unusedBaseline(DatabaseMigrationSpec spec) {
    if (spec.getBaseline() == null
        || spec.getBaseline().getRevision() == null
        || spec.getBaseline().getRevision().isBlank()) {
      return "";
    }
    return "spec.baseline.revision "
        + spec.getBaseline().getRevision()
        + " is not used: a baseline is read only on a database without its history table, and"
        + " this one has its history (a change of spec.baseline starts no run; it may be removed)";
  }

  private static HistoryEntry recorded(DatabaseMigrationStatus status, String id) {
    return status.getHistory().stream().filter(h -> id.equals(h.getId())).findFirst().orElse(null);
  }

  /**
   * The digest a failed run of the same spec.image and target ran, newest first: a retry runs
   * exactly that image again.
   */
  static Optional<String> pinnedRetryImage(
      DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    return status.getHistory().stream()
        .filter(h -> h.getOutcome() == Outcome.Failed && h.getDirection() == Direction.UPGRADE)
        .filter(h -> Objects.equals(h.getRequestedImage(), spec.getImage()))
        .filter(h -> Objects.equals(h.getTargetRevision(), spec.getTargetRevision()))
        .map(HistoryEntry::getPinnedImage)
        .filter(pinned -> pinned != null && !pinned.isBlank())
        .findFirst();
  }

  static boolean isRunNeeded(DatabaseMigrationSpec spec, DatabaseMigrationStatus status) {
    return !DatabaseState.atTarget(spec, status);
  }

  private static DowngradePolicy downgradePolicy(DatabaseMigrationSpec spec) {
    return spec.getDowngrade() == null ? DowngradePolicy.Forbid : spec.getDowngrade().getPolicy();
  }
}
