package dev.schemagate.operator.run;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DriftStatus;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.PlannedMigration;
import dev.schemagate.api.Reason;
import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/** Turns a finished run into a history entry and the status that follows from it. Pure. */
public final class RunRecorder {
  private RunRecorder() {}

  /** Records the run's end in the status (mutated) and returns the new history entry. */
  public static HistoryEntry finish(
      DatabaseMigrationStatus status, Run run, RunState state, int historyLimit, Instant now) {
    return finish(status, run, state, null, historyLimit, now);
  }

  /**
   * Records the run's end in the status (mutated) and returns the new history entry.
   *
   * @param imageId the imageID its pod reported, or null: the entry records the image that ran
   *     pinned to that digest, and on success so does status.currentImage, which a downgrade runs
   */
  public static HistoryEntry finish(
      DatabaseMigrationStatus status,
      Run run,
      RunState state,
      String imageId,
      int historyLimit,
      Instant now) {
    HistoryEntry entry = RunCodec.historyEntry(run);
    entry.setFinishedAt(Time.format(now));
    String pinned =
        state instanceof RunState.Blocked ? null : PinnedImage.pin(run.getImage(), imageId);
    entry.setPinnedImage(pinned);
    if (state instanceof RunState.Succeeded succeeded) {
      RunResult result = succeeded.result();
      entry.setOutcome(Outcome.Succeeded);
      entry.setReason(Reason.MigrationSucceeded.name());
      entry.setFromRevision(firstNonBlank(result.fromRevision(), run.getFromRevision()));
      entry.setToRevision(firstNonBlank(result.toRevision(), run.getTargetRevision()));
      entry.setApplied(new ArrayList<>(result.applied()));
      entry.setMessage(successMessage(entry, result));
      status.setCurrentRevision(entry.getToRevision());
      status.setCurrentImage(pinned != null ? pinned : run.getImage());
      status.setAppliedRevisions(AppliedRevisions.after(AppliedRevisions.of(status), entry));
      status.setContractRevisions(
          AppliedRevisions.contractsAfter(
              status.getContractRevisions(), entry, status.getAppliedRevisions()));
      boolean expandPart =
          run.getDirection() == Direction.UPGRADE
              && run.getPart() != MigrationKind.CONTRACT
              && !result.held().isEmpty();
      if (expandPart) {
        // the release's target is not reached: its contract part waits for the rollout
        entry.setPart(MigrationKind.EXPAND);
        entry.setMessage(expandMessage(entry, result));
        status.setContract(contractPart(run, entry, result, now));
      } else {
        status.setAppliedImage(run.getRequestedImage());
        status.setAppliedTargetRevision(run.getTargetRevision());
        ContractStatus contract = status.getContract();
        if (run.getPart() == MigrationKind.CONTRACT && contract != null) {
          contract.setPhase(ContractPhase.Completed);
          contract.setWaitingFor(new ArrayList<>());
          contract.setAwaitingApproval(null);
          contract.setMessage(
              "contract part applied by Job " + run.getJob() + ": " + entry.getMessage());
        } else {
          status.setContract(null);
        }
      }
      entry.setSchemaFingerprint(result.schema() == null ? null : result.schema().fingerprint());
      recordSchema(status, result.schema(), run.getJob(), now);
    } else if (state instanceof RunState.Failed failed) {
      RunResult result = failed.result();
      entry.setOutcome(Outcome.Failed);
      entry.setReason(failed.reason().name());
      entry.setMessage(failed.message());
      entry.setFromRevision(firstNonBlank(result.fromRevision(), run.getFromRevision()));
      entry.setToRevision(firstNonBlank(result.toRevision(), run.getFromRevision()));
      entry.setApplied(new ArrayList<>(result.applied()));
      if (run.getPart() == MigrationKind.CONTRACT && status.getContract() != null) {
        status.getContract().setPhase(ContractPhase.Failed);
        status.getContract().setMessage("the contract part failed: " + failed.message());
      }
    } else if (state instanceof RunState.Blocked blocked) {
      entry.setOutcome(Outcome.Failed);
      entry.setReason(blocked.reason().name());
      entry.setMessage(
          blocked.message() + " (superseded by a spec change before the container started)");
      entry.setFromRevision(run.getFromRevision());
      entry.setToRevision(run.getFromRevision());
    } else {
      throw new IllegalArgumentException("run has not finished: " + state);
    }
    List<HistoryEntry> history = new ArrayList<>();
    history.add(entry);
    for (HistoryEntry older : status.getHistory()) {
      if (history.size() >= historyLimit) {
        break;
      }
      if (!older.getId().equals(entry.getId())) {
        history.add(older);
      }
    }
    status.setHistory(history);
    status.setActiveRun(null);
    return entry;
  }

  /**
   * The schema a successful run left becomes the one drift checks compare with: its fingerprint and
   * per-table digests (the only copy of them), and what the checks found of the schema before goes.
   * A run that reported no fingerprint leaves none to compare with.
   */
  static void recordSchema(
      DatabaseMigrationStatus status, SchemaFingerprint schema, String job, Instant now) {
    DriftStatus drift = status.getDrift();
    if (schema == null && drift == null) {
      return;
    }
    if (drift == null) {
      drift = new DriftStatus();
    }
    boolean omitted = schema != null && schema.tablesOmitted();
    drift.setFingerprint(schema == null ? null : schema.fingerprint());
    drift.setTables(schema == null || omitted ? null : new LinkedHashMap<>(schema.tables()));
    drift.setTablesOmitted(omitted ? true : null);
    drift.setRecordedAt(Time.format(now));
    drift.setRecordedBy(job);
    drift.setLive(null);
    status.setDrift(drift);
  }

  /**
   * The contract part of a release, as the run that applied its expand part leaves it: held back
   * until the gated workloads have rolled out.
   */
  static ContractStatus contractPart(Run run, HistoryEntry entry, RunResult result, Instant now) {
    ContractStatus contract = new ContractStatus();
    contract.setPhase(ContractPhase.AwaitingRollout);
    contract.setImage(run.getRequestedImage());
    contract.setTargetRevision(run.getTargetRevision());
    contract.setExpandRevision(entry.getToRevision());
    contract.setExpandedAt(Time.format(now));
    contract.setPending(new ArrayList<>(result.held()));
    List<String> parts =
        new ArrayList<>(List.of("contract", String.valueOf(run.getRequestedImage())));
    parts.add(String.valueOf(run.getTargetRevision()));
    parts.add(String.valueOf(entry.getToRevision()));
    result.held().forEach(m -> parts.add(m.getRevision()));
    contract.setHash(Names.hash(parts.toArray(String[]::new)));
    contract.setMessage(
        "the contract part ("
            + describe(result.held())
            + ") runs once every gated workload has rolled out");
    return contract;
  }

  /** "6 drop name, 7 drop name default", at most a few. */
  public static String describe(List<PlannedMigration> migrations) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < migrations.size(); i++) {
      if (i == 3) {
        out.append(", and ").append(migrations.size() - i).append(" more");
        break;
      }
      PlannedMigration m = migrations.get(i);
      out.append(i == 0 ? "" : ", ").append(m.getRevision());
      if (m.getDescription() != null && !m.getDescription().isBlank()) {
        out.append(' ').append(m.getDescription());
      }
      if (m.getKind() == MigrationKind.EXPAND) {
        out.append(" (expand)");
      }
    }
    return out.toString();
  }

  private static String expandMessage(HistoryEntry entry, RunResult result) {
    return "expand part: "
        + successMessage(entry, result)
        + "; held back until the app has rolled out: "
        + describe(result.held());
  }

  private static String successMessage(HistoryEntry entry, RunResult result) {
    int count = result.applied().size() + result.omitted();
    String verb = entry.getDirection() == Direction.DOWNGRADE ? "undone" : "applied";
    return "database at revision "
        + entry.getToRevision()
        + " (from "
        + (entry.getFromRevision() == null || entry.getFromRevision().isEmpty()
            ? "empty"
            : entry.getFromRevision())
        + ", "
        + count
        + (count == 1 ? " migration " : " migrations ")
        + verb
        + (result.omitted() > 0 ? ", " + result.omitted() + " not listed" : "")
        + (result.baseline() == null || result.baseline().isBlank()
            ? ""
            : ", after recording the existing database at the baseline " + result.baseline())
        + ")";
  }

  private static String firstNonBlank(String a, String b) {
    return a != null && !a.isBlank() ? a : b;
  }
}
