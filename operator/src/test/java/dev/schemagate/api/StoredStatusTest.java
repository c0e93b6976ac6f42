package dev.schemagate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A status as the operator's earlier versions wrote it (every field set, in their JSON names) reads
 * back into today's types and writes out again unchanged: an upgraded operator reads, and keeps,
 * what the one before it stored.
 */
class StoredStatusTest {
  static final String STORED = "status-written-by-0.x.json";
  final KubernetesSerialization json = new KubernetesSerialization();

  static String stored() throws IOException {
    try (InputStream in = StoredStatusTest.class.getResourceAsStream(STORED)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void aStoredStatusReadsBackFieldByField() throws IOException {
    DatabaseMigrationStatus status = json.unmarshal(stored(), DatabaseMigrationStatus.class);

    assertThat(status.getPhase()).isEqualTo(Phase.AwaitingApproval);
    assertThat(status.getActiveRun().getTargetRevision()).isEqualTo("3");
    assertThat(status.getActiveRun().getDirection()).isEqualTo(Direction.DOWNGRADE);
    assertThat(status.getActiveRun().getJob()).isEqualTo("orders-9f8e7d6c5b");
    assertThat(status.getHistory())
        .extracting(HistoryEntry::getId, HistoryEntry::getOutcome, HistoryEntry::getReason)
        .containsExactly(
            tuple("0123456789", Outcome.Succeeded, "MigrationSucceeded"),
            tuple("fedcba9876", Outcome.Failed, "DatabaseUnreachable"));
    assertThat(status.getHistory().get(0).getTargetRevision()).isEqualTo("3");
    assertThat(status.getHistory().get(0).getApplied()).hasSize(3);
    assertThat(status.getPlan().getId()).isEqualTo("a1b2c3d4e5");
    assertThat(status.getPlan().getJob()).isEqualTo("orders-a1b2c3d4e5");
    assertThat(String.valueOf(status.getPlan().getPhase())).isEqualTo("AwaitingApproval");
    assertThat(status.getPlan().getRehearsal().getLockWaits()).hasSize(1);
    assertThat(status.getDrift().getCheck().getId()).isEqualTo("c0ffee0123");
    assertThat(status.getDrift().getCheck().getJob()).isEqualTo("orders-c0ffee0123");
    assertThat(String.valueOf(status.getDrift().getCheck().getOutcome())).isEqualTo("Drifted");
    assertThat(status.getDrift().getLive().getDrifted()).isTrue();
    assertThat(status.getConditions()).hasSize(5);
  }

  @Test
  void aStoredStatusWritesOutAsItWasStored() throws IOException {
    JsonNode before = json.unmarshal(stored(), JsonNode.class);
    DatabaseMigrationStatus status = json.unmarshal(stored(), DatabaseMigrationStatus.class);
    JsonNode after = json.unmarshal(json.asJson(status), JsonNode.class);
    assertThat(after).isEqualTo(before);
  }
}
