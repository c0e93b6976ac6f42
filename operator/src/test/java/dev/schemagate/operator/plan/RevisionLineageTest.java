package dev.schemagate.operator.plan;

import static dev.schemagate.operator.Fixtures.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.operator.run.AppliedRevisions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order of revisions, from the runs a resource recorded. */
class RevisionLineageTest {

  @Test
  void lineageTellsADowngradeFromAReUpgradeWithOpaqueRevisions() {
    List<HistoryEntry> history =
        new ArrayList<>(
            List.of(
                succeeded(Direction.DOWNGRADE, "c3", "b2"),
                succeeded(Direction.UPGRADE, "b2", "c3"),
                succeeded(Direction.UPGRADE, "", "b2")));
    assertThat(RevisionLineage.isBelowCurrent("c3", "b2", AppliedRevisions.replay(history), false))
        .as("c3 is above b2 again")
        .isFalse();
    assertThat(
            RevisionLineage.isBelowCurrent(
                "b2", "c3", AppliedRevisions.replay(history.subList(1, 3)), false))
        .isTrue();
    assertThat(RevisionLineage.isBelowCurrent("zz", "c3", AppliedRevisions.replay(history), false))
        .as("unknown: upgrade")
        .isFalse();
    assertThat(
            RevisionLineage.isBelowCurrent("head", "c3", AppliedRevisions.replay(history), false))
        .isFalse();
    assertThat(RevisionLineage.isBelowCurrent("2", "10", List.of(), true))
        .as("flyway versions are ordered")
        .isTrue();
    assertThat(RevisionLineage.isBelowCurrent("1.10", "1.9", List.of(), true)).isFalse();
    assertThat(RevisionLineage.isBelowCurrent("latest", "4", List.of(), true)).isFalse();
  }

  @Test
  void aRevisionPassedThroughInOneRunIsBelowItsEnd() {
    HistoryEntry run = succeeded(Direction.UPGRADE, "", "0003");
    run.getApplied()
        .addAll(
            List.of(
                new dev.schemagate.api.AppliedMigration("0001", "a", 1L),
                new dev.schemagate.api.AppliedMigration("0002", "b", 1L),
                new dev.schemagate.api.AppliedMigration("0003", "c", 1L)));
    assertThat(
            RevisionLineage.isBelowCurrent(
                "0002", "0003", AppliedRevisions.replay(List.of(run)), false))
        .isTrue();
    assertThat(
            RevisionLineage.isBelowCurrent(
                "0001", "0003", AppliedRevisions.replay(List.of(run)), false))
        .isTrue();
    assertThat(
            RevisionLineage.isBelowCurrent(
                "0004", "0003", AppliedRevisions.replay(List.of(run)), false))
        .isFalse();
  }
}
