package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Run;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Recording a finished run. */
class RunRecorderTest {

  @Test
  void recordingASuccessSetsTheCurrentRevisionAndCapsHistory() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    for (int i = 0; i < 3; i++) {
      HistoryEntry old = succeeded(Direction.UPGRADE, "", "r" + i);
      status.getHistory().add(old);
    }
    Run run = new Run();
    run.setId("run-4");
    run.setJob("orders-run-4");
    run.setDirection(Direction.UPGRADE);
    run.setImage(IMAGE_2);
    run.setRequestedImage(IMAGE_2);
    run.setTargetRevision("head");
    run.setFromRevision("r0");
    HistoryEntry entry =
        RunRecorder.finish(
            status,
            run,
            new RunState.Succeeded(
                ResultParser.parse(
                    "{\"fromRevision\":\"r0\",\"toRevision\":\"r9\",\"applied\":[{\"revision\":\"r9\"}]}")),
            2,
            Instant.now());
    assertThat(entry.getToRevision()).isEqualTo("r9");
    assertThat(status.getCurrentRevision())
        .as("the revision reached, not the word head")
        .isEqualTo("r9");
    assertThat(status.getAppliedTargetRevision()).isEqualTo("head");
    assertThat(status.getHistory()).hasSize(2).first().isSameAs(entry);
    assertThat(status.getActiveRun()).isNull();
  }

  @Test
  void theDigestThePodRanIsRecordedAndBecomesTheCurrentImage() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    Run run = new Run();
    run.setId("run-1");
    run.setJob("orders-run-1");
    run.setDirection(Direction.UPGRADE);
    run.setImage(IMAGE_2);
    run.setRequestedImage(IMAGE_2);
    run.setTargetRevision("5");
    String digest = "sha256:" + "d".repeat(64);
    HistoryEntry entry =
        RunRecorder.finish(
            status,
            run,
            new RunState.Succeeded(ResultParser.parse("{\"toRevision\":\"5\"}")),
            "docker.io/shop/orders-migrations@" + digest,
            20,
            Instant.now());
    String pinned = "registry.example.com/shop/orders-migrations@" + digest;
    assertThat(entry.getPinnedImage())
        .as("the repository as the spec spells it, the digest the pod ran")
        .isEqualTo(pinned);
    assertThat(entry.getImage()).isEqualTo(IMAGE_2);
    assertThat(status.getCurrentImage()).isEqualTo(pinned);
    assertThat(status.getAppliedImage()).isEqualTo(IMAGE_2);
  }

  @Test
  void anImageIdWithoutARepositoryDigestPinsNothing() {
    assertThat(PinnedImage.pin("x/y:1", "sha256:" + "e".repeat(64))).isNull();
    assertThat(PinnedImage.pin("x/y:1", "")).isNull();
    assertThat(PinnedImage.pin("x/y:1", null)).isNull();
    assertThat(
            PinnedImage.pin(
                "host:5000/x/y:1", "docker-pullable://host:5000/x/y@sha256:" + "f".repeat(64)))
        .isEqualTo("host:5000/x/y@sha256:" + "f".repeat(64));
    assertThat(PinnedImage.pin("host:5000/x/y", "host:5000/x/y@sha256:" + "f".repeat(64)))
        .isEqualTo("host:5000/x/y@sha256:" + "f".repeat(64));
  }
}
