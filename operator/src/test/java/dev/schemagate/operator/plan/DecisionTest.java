package dev.schemagate.operator.plan;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Reason;
import org.junit.jupiter.api.Test;

/** Which decisions let the gated Deployments run. */
class DecisionTest {

  @Test
  void theDatabaseIsAtTheTargetOnlyWhenNoRunIsNeeded() {
    assertThat(new Decision.UpToDate().databaseAtTarget()).isTrue();
    assertThat(new Decision.Suspended(false).databaseAtTarget()).isTrue();
    assertThat(new Decision.Suspended(true).databaseAtTarget()).isFalse();
    assertThat(new Decision.Refused(Reason.InvalidSpec, "m", false).databaseAtTarget()).isTrue();
    assertThat(new Decision.Refused(Reason.DowngradeForbidden, "m", true).databaseAtTarget())
        .isFalse();
    assertThat(new Decision.AwaitingRetry(new HistoryEntry()).databaseAtTarget()).isFalse();
    assertThat(new Decision.Start(null).databaseAtTarget()).isFalse();
  }
}
