package dev.schemagate.operator.plan;

import dev.schemagate.operator.base.Versions;
import dev.schemagate.operator.run.AppliedRevisions;
import java.util.List;
import java.util.Set;

/**
 * Tells whether a target revision lies below the current one. Revisions are opaque to the operator
 * (Alembic's are random ids), so the order comes from the runs this resource recorded: the
 * revisions in place ({@link AppliedRevisions}), oldest first, are those the database went up
 * through. For Flyway versions, which are ordered, a numeric comparison settles what they cannot.
 */
public final class RevisionLineage {
  private static final Set<String> NEWEST = Set.of("head", "heads", "latest");

  private RevisionLineage() {}

  public static boolean isBelowCurrent(
      String target, String current, List<String> inPlace, boolean flywayVersions) {
    if (target == null || current == null || target.equals(current) || NEWEST.contains(target)) {
      return false;
    }
    if (inPlace.contains(target) && current.equals(inPlace.get(inPlace.size() - 1))) {
      return true;
    }
    return flywayVersions && Versions.compare(target, current) < 0;
  }
}
