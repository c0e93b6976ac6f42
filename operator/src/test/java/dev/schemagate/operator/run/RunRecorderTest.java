package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.succeeded;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.PlannedMigration;
import dev.schemagate.api.Run;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
            "images.example.org/shop/orders-migrations@" + digest,
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

  static final String EXPAND_RESULT =
      "{\"fromRevision\":\"3\",\"toRevision\":\"4\",\"applied\":[{\"revision\":\"4\","
          + "\"description\":\"add full name\",\"kind\":\"expand\"}],\"held\":["
          + "{\"revision\":\"5\",\"description\":\"drop name\",\"kind\":\"contract\"},"
          + "{\"revision\":\"6\",\"description\":\"add index\",\"kind\":\"expand\"}]}";

  static Run upgrade(String id, MigrationKind part) {
    Run run = new Run();
    run.setId(id);
    run.setJob("orders-" + id);
    run.setDirection(Direction.UPGRADE);
    run.setImage(IMAGE_2);
    run.setRequestedImage(IMAGE_2);
    run.setTargetRevision("6");
    run.setPart(part);
    return run;
  }

  @Test
  void anExpandPartIsRecordedAndItsContractPartWaitsForTheRollout() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedRevisions(new ArrayList<>(List.of("1", "2", "3")));
    Instant now = Instant.parse("2026-12-07T06:00:00Z");

    HistoryEntry entry =
        RunRecorder.finish(
            status,
            upgrade("run-1", null),
            new RunState.Succeeded(ResultParser.parse(EXPAND_RESULT)),
            20,
            now);

    assertThat(entry.getPart()).isEqualTo(MigrationKind.EXPAND);
    assertThat(entry.getApplied())
        .singleElement()
        .satisfies(a -> assertThat(a.getKind()).isEqualTo(MigrationKind.EXPAND));
    assertThat(entry.getMessage())
        .startsWith("expand part: ")
        .endsWith("held back until the app has rolled out: 5 drop name, 6 add index (expand)");
    assertThat(status.getCurrentRevision()).isEqualTo("4");
    assertThat(status.getAppliedTargetRevision())
        .as("the release's target is not reached: the database is not at the target")
        .isNull();
    ContractStatus contract = status.getContract();
    assertThat(contract.getPhase()).isEqualTo(ContractPhase.AwaitingRollout);
    assertThat(contract.getExpandRevision()).isEqualTo("4");
    assertThat(contract.getTargetRevision()).isEqualTo("6");
    assertThat(contract.getImage()).isEqualTo(IMAGE_2);
    assertThat(contract.getExpandedAt()).isEqualTo("2026-12-07T06:00:00Z");
    assertThat(contract.getHash()).matches("[0-9a-f]{10}");
    assertThat(contract.getPending())
        .extracting(PlannedMigration::getRevision, PlannedMigration::getKind)
        .containsExactly(tuple("5", MigrationKind.CONTRACT), tuple("6", MigrationKind.EXPAND));
    assertThat(status.getContractRevisions()).isEmpty();
  }

  @Test
  void theContractPartCompletesTheReleaseAndItsContractRevisionsAreRecorded() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedRevisions(new ArrayList<>(List.of("1", "2", "3")));
    Instant now = Instant.parse("2026-12-07T06:00:00Z");
    RunRecorder.finish(
        status,
        upgrade("run-1", null),
        new RunState.Succeeded(ResultParser.parse(EXPAND_RESULT)),
        20,
        now);

    RunRecorder.finish(
        status,
        upgrade("run-2", MigrationKind.CONTRACT),
        new RunState.Succeeded(
            ResultParser.parse(
                "{\"fromRevision\":\"4\",\"toRevision\":\"6\",\"applied\":["
                    + "{\"revision\":\"5\",\"kind\":\"contract\"},"
                    + "{\"revision\":\"6\",\"kind\":\"expand\"}]}")),
        20,
        now.plusSeconds(60));

    assertThat(status.getHistory().get(0).getPart()).isEqualTo(MigrationKind.CONTRACT);
    assertThat(status.getCurrentRevision()).isEqualTo("6");
    assertThat(status.getAppliedTargetRevision()).isEqualTo("6");
    assertThat(status.getAppliedImage()).isEqualTo(IMAGE_2);
    assertThat(status.getAppliedRevisions()).containsExactly("1", "2", "3", "4", "5", "6");
    assertThat(status.getContractRevisions()).containsExactly("5");
    assertThat(status.getContract().getPhase()).isEqualTo(ContractPhase.Completed);
    assertThat(status.getContract().getMessage())
        .startsWith("contract part applied by Job orders-run-2");
  }

  @Test
  void aDatabaseAdoptedAtABaselineSaysSoInItsHistory() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    HistoryEntry entry =
        RunRecorder.finish(
            status,
            upgrade("run-1", null),
            new RunState.Succeeded(
                ResultParser.parse(
                    "{\"fromRevision\":\"3\",\"toRevision\":\"4\",\"baseline\":\"3\","
                        + "\"applied\":[{\"revision\":\"4\"}]}")),
            20,
            Instant.now());
    assertThat(entry.getMessage())
        .contains("after recording the existing database at the baseline 3");
    assertThat(status.getContract()).isNull();
  }
}
