package dev.schemagate.operator.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When an open Job is read from the API server rather than trusted to the cache. */
class JobCatchUpTest {
  private static final ResourceID ORDERS = new ResourceID("orders", "shop");
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private final JobCatchUp catchUp = new JobCatchUp();
  private final List<Instant> reads = new ArrayList<>();
  private final Job job =
      new JobBuilder().withNewMetadata().withName("orders-1").withUid("u1").endMetadata().build();

  private Optional<Duration> at(Duration since, boolean podsEnded, boolean endedOnTheServer) {
    Instant now = T0.plus(since);
    return catchUp.due(
        ORDERS,
        List.of(job),
        j -> podsEnded,
        j -> {
          reads.add(now);
          return endedOnTheServer;
        },
        now);
  }

  @Test
  void aRunningJobIsNotReadAtFirstThenOnceAMinute() {
    assertThat(at(Duration.ZERO, false, false)).contains(JobCatchUp.RUNNING);
    assertThat(at(Duration.ofSeconds(30), false, false)).contains(Duration.ofSeconds(30));
    assertThat(reads).isEmpty();
    assertThat(at(Duration.ofSeconds(60), false, false)).contains(JobCatchUp.RUNNING);
    assertThat(reads).containsExactly(T0.plusSeconds(60));
  }

  @Test
  void aJobWhosePodsEndedIsReadAtOnceThenWithABackoffWhileTheApiServerHasItOpen() {
    assertThat(at(Duration.ZERO, false, false)).contains(JobCatchUp.RUNNING);
    assertThat(at(Duration.ofSeconds(5), true, false)).contains(Duration.ofSeconds(1));
    assertThat(at(Duration.ofSeconds(6), true, false)).contains(Duration.ofSeconds(2));
    assertThat(at(Duration.ofSeconds(7), true, false))
        .as("not due")
        .contains(Duration.ofSeconds(1));
    assertThat(at(Duration.ofSeconds(8), true, false)).contains(Duration.ofSeconds(4));
    assertThat(reads).containsExactly(T0.plusSeconds(5), T0.plusSeconds(6), T0.plusSeconds(8));
    for (int s = 12; s < 200; s++) {
      at(Duration.ofSeconds(s), true, false);
    }
    assertThat(at(Duration.ofSeconds(200), true, false).orElseThrow())
        .isLessThanOrEqualTo(JobCatchUp.MOST);
  }

  @Test
  void aJobTheApiServerHasEndedIsNotReadAgainNorLookedAt() {
    assertThat(at(Duration.ZERO, true, true)).isEmpty();
    assertThat(reads).containsExactly(T0);
  }

  @Test
  void aJobNoLongerOpenIsForgotten() {
    at(Duration.ZERO, true, false);
    assertThat(catchUp.due(ORDERS, List.of(), j -> true, j -> true, T0.plusSeconds(1))).isEmpty();
    // met again open with its pods ended: read at once, as a Job never met
    reads.clear();
    at(Duration.ofSeconds(2), true, false);
    assertThat(reads).containsExactly(T0.plusSeconds(2));
  }
}
