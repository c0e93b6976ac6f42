package dev.schemagate.operator.plan;

import dev.schemagate.api.AppliedMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * Tells whether a target revision lies below the current one. Revisions are opaque to the operator
 * (Alembic's are random ids), so the order comes from the runs this resource recorded: replaying
 * its successful runs oldest first gives the stack of revisions the database went up through. For
 * Flyway versions, which are ordered, a numeric comparison settles what the history cannot.
 */
public final class RevisionLineage {
  private static final Set<String> NEWEST = Set.of("head", "heads", "latest");

  private RevisionLineage() {}

  public static boolean isBelowCurrent(
      String target,
      String current,
      List<HistoryEntry> historyNewestFirst,
      boolean flywayVersions) {
    if (target == null || current == null || target.equals(current) || NEWEST.contains(target)) {
      return false;
    }
    Deque<String> stack = replay(historyNewestFirst);
    if (stack.contains(target) && current.equals(stack.peek())) {
      return true;
    }
    if (flywayVersions) {
      int order = compareVersions(target, current);
      return order < 0;
    }
    return false;
  }

  /** The revisions the database went up through, top = newest. */
  static Deque<String> replay(List<HistoryEntry> historyNewestFirst) {
    Deque<String> stack = new ArrayDeque<>();
    for (int i = historyNewestFirst.size() - 1; i >= 0; i--) {
      HistoryEntry run = historyNewestFirst.get(i);
      if (run.getOutcome() != Outcome.Succeeded || run.getToRevision() == null) {
        continue;
      }
      if (run.getDirection() == Direction.DOWNGRADE) {
        while (!stack.isEmpty() && !stack.peek().equals(run.getToRevision())) {
          stack.pop();
        }
        if (stack.isEmpty()) {
          stack.push(run.getToRevision());
        }
      } else {
        if (run.getFromRevision() != null && !run.getFromRevision().isBlank() && stack.isEmpty()) {
          stack.push(run.getFromRevision());
        }
        // every revision the run applied was reached on the way up, not only the last one
        for (AppliedMigration applied : run.getApplied()) {
          climb(stack, applied.getRevision());
        }
        climb(stack, run.getToRevision());
      }
    }
    return stack;
  }

  private static void climb(Deque<String> stack, String revision) {
    if (revision != null && !revision.isBlank() && !revision.equals(stack.peek())) {
      stack.remove(revision);
      stack.push(revision);
    }
  }

  /**
   * Compares two Flyway versions (parts separated by '.' or '_', compared as numbers). Returns 0
   * when either is not a version, so that nothing is inferred from it.
   */
  static int compareVersions(String a, String b) {
    String[] left = a.split("[._]");
    String[] right = b.split("[._]");
    for (String part : left) {
      if (!part.matches("\\d+")) {
        return 0;
      }
    }
    for (String part : right) {
      if (!part.matches("\\d+")) {
        return 0;
      }
    }
    for (int i = 0; i < Math.max(left.length, right.length); i++) {
      BigInteger x = i < left.length ? new BigInteger(left[i]) : BigInteger.ZERO;
      BigInteger y = i < right.length ? new BigInteger(right[i]) : BigInteger.ZERO;
      int c = x.compareTo(y);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }
}
