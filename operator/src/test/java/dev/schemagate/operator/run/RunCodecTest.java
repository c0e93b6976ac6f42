package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Run;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import org.junit.jupiter.api.Test;

/** The run a Job carries, written and read back in one place. */
class RunCodecTest {
  static final RunInputs DOWN =
      new RunInputs(
          "abcdef0123", "orders-abcdef0123", Direction.DOWNGRADE, IMAGE_2, IMAGE_1, "3", "5", 4);

  @Test
  void aJobGivesBackTheInputsItWasMadeFrom() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    Job job = JobFactory.desired(dbm, DOWN, JobDefaults.STANDARD);
    assertThat(RunCodec.inputs(job)).isEqualTo(DOWN);
    assertThat(RunCodec.migration(job)).isEqualTo("orders");
    assertThat(RunCodec.runId(job)).isEqualTo("abcdef0123");
    assertThat(job.getMetadata().getLabels()).containsEntry(RunCodec.RUN_ID, "abcdef0123");
    assertThat(RunCodec.MANAGED_SELECTOR).isEqualTo("app.kubernetes.io/managed-by=schemagate");

    RunInputs firstRun =
        new RunInputs(
            "0123456789", "orders-0123456789", Direction.UPGRADE, IMAGE_1, IMAGE_1, "3", null, 1);
    assertThat(RunCodec.inputs(JobFactory.desired(dbm, firstRun, JobDefaults.STANDARD)))
        .as("no revision before the first run")
        .isEqualTo(firstRun);
  }

  @Test
  void aPodOfTheRunCarriesItsMigrationAndRun() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    var template = JobFactory.desired(dbm, DOWN, JobDefaults.STANDARD).getSpec().getTemplate();
    var pod = new PodBuilder().withMetadata(template.getMetadata()).build();
    assertThat(RunCodec.migration(pod)).isEqualTo("orders");
    assertThat(RunCodec.runId(pod)).isEqualTo("abcdef0123");
  }

  @Test
  void theRunAndItsHistoryEntryShareTheirFieldsAndTarget() {
    Run run = RunCodec.run(DOWN, "2026-11-25T10:00:00Z");
    assertThat(run.getId()).isEqualTo("abcdef0123");
    assertThat(run.getJob()).isEqualTo("orders-abcdef0123");
    assertThat(run.getDirection()).isEqualTo(Direction.DOWNGRADE);
    assertThat(run.getImage()).isEqualTo(IMAGE_2);
    assertThat(run.getRequestedImage()).isEqualTo(IMAGE_1);
    assertThat(run.getFromRevision()).isEqualTo("5");
    assertThat(run.getTargetRevision()).isEqualTo("3");
    assertThat(run.getGeneration()).isEqualTo(4L);
    assertThat(run.getStartedAt()).isEqualTo("2026-11-25T10:00:00Z");

    HistoryEntry entry = RunCodec.historyEntry(run);
    assertThat(entry)
        .usingRecursiveComparison()
        .comparingOnlyFields(
            "id",
            "job",
            "direction",
            "image",
            "requestedImage",
            "fromRevision",
            "generation",
            "startedAt")
        .isEqualTo(run);
    assertThat(entry.getTargetRevision()).isEqualTo("3");
    assertThat(entry.getToRevision()).as("the revision reached is the Job's to report").isNull();
  }
}
