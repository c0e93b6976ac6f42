package dev.schemagate.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.PlanStatus;
import org.junit.jupiter.api.Test;

class PlanResultTest {
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"plan\",\"fromRevision\":\"2\",\"toRevision\":\"4\","
          + "\"applied\":[],\"plan\":{\"hash\":\"0123456789abcdef\",\"pending\":["
          + "{\"revision\":\"3\",\"description\":\"add display name\",\"checksum\":-12345},"
          + "{\"revision\":\"4\",\"description\":\"index names\",\"checksum\":7,\"transactional\":false}],"
          + "\"rehearsal\":{\"outcome\":\"Succeeded\",\"durationMs\":41,\"notRehearsed\":[\"4 index names\"],"
          + "\"lockWaits\":[{\"revision\":\"3\",\"holder\":\"pid 42 (application \\\"report\\\")\"}]},"
          + "\"sqlBytes\":99,\"sqlTruncated\":false,"
          + "\"sql\":\"-- 3 add display name\\nCREATE ROLE r LOGIN PASSWORD 'hunter2-x';\\n\"},"
          + "\"durationMs\":690}";

  @Test
  void readsThePlanItsRehearsalAndItsRedactedSql() {
    PlanStatus base = new PlanStatus();
    base.setId("id1");
    base.setJob("orders-id1");
    var read = PlanResult.read(RESULT, base).orElseThrow();
    PlanStatus plan = read.plan();
    assertThat(plan.getId()).isEqualTo("id1");
    assertThat(plan.getHash()).isEqualTo("0123456789abcdef");
    assertThat(plan.getPending()).extracting(m -> m.getRevision()).containsExactly("3", "4");
    assertThat(plan.getPending().get(0).getChecksum()).isEqualTo(-12345L);
    assertThat(plan.getPending().get(1).getTransactional()).isFalse();
    assertThat(plan.getRehearsal().getLockWaits())
        .containsExactly("3: waited for pid 42 (application \"report\")");
    assertThat(plan.getSummary())
        .isEqualTo(
            "2 -> 4: 3 add display name, 4 index names (outside a transaction); rehearsal"
                + " succeeded in 41 ms, not rehearsed: 4 index names");
    assertThat(read.sql()).contains("CREATE ROLE r LOGIN PASSWORD").doesNotContain("hunter2");
  }

  @Test
  void aResultWithoutAPlanIsNoPlan() {
    assertThat(
            PlanResult.read(
                "{\"tool\":\"custom\",\"direction\":\"upgrade\",\"applied\":[]}", new PlanStatus()))
        .isEmpty();
    assertThat(PlanResult.read("3f2a9c1b7d10 (head)", new PlanStatus())).isEmpty();
    assertThat(PlanResult.read(null, new PlanStatus())).isEmpty();
  }
}
