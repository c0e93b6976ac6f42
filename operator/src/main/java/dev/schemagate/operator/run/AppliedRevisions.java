package dev.schemagate.operator.run;

import dev.schemagate.api.AppliedMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Outcome;
import java.util.ArrayList;
import java.util.List;

/**
 * The revisions in place in the database, oldest first: an upgrade adds each revision it applied
 * and the one it reached; a downgrade takes away every revision above the one it reached. Revisions
 * are opaque (Alembic's are random ids), so this order is the only one the operator knows for them.
 * At most {@link #LIMIT} are kept, the newest.
 */
public final class AppliedRevisions {
  public static final int LIMIT = 2000;

  private AppliedRevisions() {}

  /**
   * The revisions in place as the status records them; for a status written before it recorded
   * them, replayed from its history.
   */
  public static List<String> of(DatabaseMigrationStatus status) {
    return status.getAppliedRevisions() != null && !status.getAppliedRevisions().isEmpty()
        ? status.getAppliedRevisions()
        : replay(status.getHistory());
  }

  /** The revisions in place after a successful run, from those in place before it. */
  public static List<String> after(List<String> before, HistoryEntry run) {
    List<String> revisions = new ArrayList<>(before);
    if (run.getOutcome() != Outcome.Succeeded || run.getToRevision() == null) {
      return revisions;
    }
    if (run.getDirection() == Direction.DOWNGRADE) {
      int at = revisions.lastIndexOf(run.getToRevision());
      if (at < 0) {
        revisions.clear();
        revisions.add(run.getToRevision());
      } else {
        revisions.subList(at + 1, revisions.size()).clear();
      }
      return revisions;
    }
    if (revisions.isEmpty() && run.getFromRevision() != null && !run.getFromRevision().isBlank()) {
      revisions.add(run.getFromRevision());
    }
    // every revision the run applied was reached on the way up, not only the last one
    for (AppliedMigration applied : run.getApplied()) {
      climb(revisions, applied.getRevision());
    }
    climb(revisions, run.getToRevision());
    if (revisions.size() > LIMIT) {
      revisions.subList(0, revisions.size() - LIMIT).clear();
    }
    return revisions;
  }

  /**
   * The contract migrations among the revisions in place after a successful run, oldest first:
   * those in place before it that still are, and those it applied; only revisions that are in place
   * ({@code inPlace}, as {@link #after} left them) are kept.
   */
  public static List<String> contractsAfter(
      List<String> before, HistoryEntry run, List<String> inPlace) {
    List<String> contracts = new ArrayList<>(before == null ? List.of() : before);
    if (run.getOutcome() == Outcome.Succeeded && run.getDirection() == Direction.UPGRADE) {
      for (AppliedMigration applied : run.getApplied()) {
        if (applied.getKind() == MigrationKind.CONTRACT
            && applied.getRevision() != null
            && !contracts.contains(applied.getRevision())) {
          contracts.add(applied.getRevision());
        }
      }
    }
    contracts.retainAll(inPlace);
    contracts.sort(java.util.Comparator.comparingInt(inPlace::indexOf));
    return contracts;
  }

  /** The revisions in place, replayed from a history (newest first) of successful runs. */
  public static List<String> replay(List<HistoryEntry> historyNewestFirst) {
    List<String> revisions = new ArrayList<>();
    for (int i = historyNewestFirst.size() - 1; i >= 0; i--) {
      revisions = after(revisions, historyNewestFirst.get(i));
    }
    return revisions;
  }

  private static void climb(List<String> revisions, String revision) {
    if (revision != null
        && !revision.isBlank()
        && (revisions.isEmpty() || !revision.equals(revisions.get(revisions.size() - 1)))) {
      revisions.remove(revision);
      revisions.add(revision);
    }
  }
}
