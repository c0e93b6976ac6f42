package dev.schemagate.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Reason;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kubernetes-convention conditions. */
class ConditionsTest {

  @Test
  void conditionsKeepTransitionTimeUnlessTheStatusFlips() {
    Instant t1 = Instant.parse("2026-11-25T10:00:00Z");
    Instant t2 = Instant.parse("2026-11-25T10:05:00Z");
    List<Condition> c =
        new Conditions(1, t1)
            .set(new ArrayList<>(), Conditions.READY, false, Reason.MigrationRunning, "m");
    c = new Conditions(2, t2).set(c, Conditions.READY, false, Reason.MigrationFailed, "n");
    assertThat(c.get(0).getLastTransitionTime()).isEqualTo("2026-11-25T10:00:00Z");
    assertThat(c.get(0).getReason()).isEqualTo("MigrationFailed");
    assertThat(c.get(0).getObservedGeneration()).isEqualTo(2L);
    c = new Conditions(2, t2).set(c, Conditions.READY, true, Reason.UpToDate, "");
    assertThat(c.get(0).getLastTransitionTime()).isEqualTo("2026-11-25T10:05:00Z");
  }
}
