package dev.schemagate.operator.plan;

import dev.schemagate.api.CheckOutcome;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DriftCheck;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.LiveSchema;
import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.run.CheckResult;
import dev.schemagate.operator.run.Observation;
import dev.schemagate.operator.run.ResultParser;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.run.SchemaDiff;
import dev.schemagate.redact.Redactor;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One drift check: the Job that makes it (the image that reached the current revision, the Secret
 * and pod security of a run, the Job contract's direction check), what its result means against the
 * recorded schema, and how its record ends. Pure.
 */
public final class DriftChecks {
  private DriftChecks() {}

  /**
   * The check due at this instant, as status records it before its Job is made. It has the same id
   * (and Job name) in every reconcile: one that a lost status write forgot is found, not made
   * twice.
   */
  public static DriftCheck check(DatabaseMigration dbm, Instant due) {
    String id = Names.hash(dbm.getMetadata().getUid(), "check", Time.format(due));
    DriftStatus drift = dbm.getStatus().getDrift();
    DriftCheck check = new DriftCheck();
    check.setFailures(drift.getCheck() == null ? null : drift.getCheck().getFailures());
    check.setId(id);
    check.setJob(Names.jobName(dbm.getMetadata().getName(), id));
    check.setComparedWith(drift.getFingerprint());
    return check;
  }

  /**
   * The inputs of a check's Job: the image that reached the current revision (spec.image when none
   * is recorded), the Secret and pod security of a run, the Job contract's direction check.
   */
  public static RunInputs inputs(DatabaseMigration dbm, DriftCheck check) {
    DatabaseMigrationStatus status = dbm.getStatus();
    String revision = status.getCurrentRevision();
    return new RunInputs(
        check.getId(),
        check.getJob(),
        Direction.CHECK,
        image(dbm),
        dbm.getSpec().getImage(),
        Objects.requireNonNullElse(revision, ""),
        revision,
        Objects.requireNonNullElse(dbm.getMetadata().getGeneration(), 0L));
  }

  /** The image a check runs: the one that reached the current revision, else spec.image. */
  public static String image(DatabaseMigration dbm) {
    String current = dbm.getStatus().getCurrentImage();
    return current != null ? current : dbm.getSpec().getImage();
  }

  /**
   * What a check Job that ended found.
   *
   * @param live the live schema it read, compared with the recorded one; null when it read none
   * @param message why it failed or was skipped; null otherwise
   */
  public record Found(CheckOutcome outcome, LiveSchema live, String message) {}

  /**
   * What a check Job means, once it has ended or can no longer run (its container never started);
   * empty while it runs.
   */
  public static Optional<Found> found(DriftStatus drift, Observation seen, Instant now) {
    RunState state = seen.state();
    if (state instanceof RunState.Blocked blocked) {
      return failed(blocked.reason() + ": " + blocked.message());
    }
    if (!seen.ended()) {
      return Optional.empty();
    }
    Optional<CheckResult> result = CheckResult.read(seen.result());
    boolean skipped =
        result.map(r -> r.skipped() != null).orElse(false)
            || (state instanceof RunState.Failed f && f.reason() == Reason.MigrationRunning);
    if (skipped) {
      return skipped("a migration held the run lock: the check read nothing");
    }
    if (state instanceof RunState.Failed failed) {
      return failed(failed.reason() + ": " + failed.message());
    }
    if (result.isEmpty() || result.get().schema() == null) {
      return failed(
          "the check Job succeeded but reported no schema: the image must follow the Job"
              + " contract's SCHEMAGATE_DIRECTION=check (the schemagate runner and the Alembic"
              + " wrapper do)");
    }
    DriftCheck check = drift.getCheck();
    if (!Objects.equals(check.getComparedWith(), drift.getFingerprint())) {
      return skipped("a run recorded another fingerprint while the check ran");
    }
    SchemaDiff diff =
        SchemaDiff.between(
            drift.getFingerprint(),
            drift.getTables(),
            Boolean.TRUE.equals(drift.getTablesOmitted()),
            result.get().schema());
    LiveSchema live = new LiveSchema();
    live.setFingerprint(result.get().schema().fingerprint());
    live.setComparedWith(drift.getFingerprint());
    live.setDrifted(diff.drifted());
    live.setAdded(listOrNull(diff.added()));
    live.setRemoved(listOrNull(diff.removed()));
    live.setChanged(listOrNull(diff.changed()));
    live.setSummary(ResultParser.shorten(diff.summary()));
    live.setCheckedAt(Time.format(now));
    live.setJob(check.getJob());
    return Optional.of(
        new Found(diff.drifted() ? CheckOutcome.Drifted : CheckOutcome.NoDrift, live, null));
  }

  /**
   * Records how a check ended in its record. Returns whether it is the first failure in a row: a
   * failure is told once, not at every interval while its cause stays.
   */
  public static boolean finish(DriftCheck check, CheckOutcome outcome, String why, Instant now) {
    check.setOutcome(outcome);
    check.setFinishedAt(Time.format(now));
    check.setMessage(why == null ? null : ResultParser.shorten(Redactor.redact(why)));
    if (outcome == CheckOutcome.Failed) {
      int failures = Objects.requireNonNullElse(check.getFailures(), 0) + 1;
      check.setFailures(failures);
      return failures == 1;
    }
    if (outcome != CheckOutcome.Skipped) {
      check.setFailures(null);
    }
    return false;
  }

  private static Optional<Found> failed(String why) {
    return Optional.of(new Found(CheckOutcome.Failed, null, why));
  }

  private static Optional<Found> skipped(String why) {
    return Optional.of(new Found(CheckOutcome.Skipped, null, why));
  }

  private static List<String> listOrNull(List<String> tables) {
    return tables.isEmpty() ? null : SchemaDiff.firstNamed(tables);
  }
}
