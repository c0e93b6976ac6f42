package dev.schemagate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.AppliedMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.HistoryEntry;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The status passes through the redaction as a whole, whatever put a message there. */
class StatusRedactionTest {

  @Test
  void conditionsHistoryAndAppliedDescriptionsAreRedacted() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setConditions(
        List.of(
            new ConditionBuilder()
                .withType("Stalled")
                .withMessage("failed: postgresql://app:p@ss/w rd@db/orders")
                .build()));
    HistoryEntry old = new HistoryEntry();
    old.setMessage("written by an older operator: {\"password\": \"se cret, x\"}");
    old.setApplied(
        List.of(new AppliedMigration("3", "ALTER ROLE app PASSWORD 'in-a-description'", 1L)));
    status.setHistory(List.of(old));

    StatusComposer.redact(status);

    assertThat(status.getConditions().get(0).getMessage())
        .isEqualTo("failed: postgresql://app:*****@db/orders");
    assertThat(old.getMessage())
        .isEqualTo("written by an older operator: {\"password\": \"*****\"}");
    assertThat(old.getApplied().get(0).getDescription())
        .isEqualTo("ALTER ROLE app PASSWORD '*****'");
  }
}
