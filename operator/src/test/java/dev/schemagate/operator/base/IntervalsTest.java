package dev.schemagate.operator.base;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class IntervalsTest {
  @Test
  void readsKubernetesDurations() {
    assertThat(Intervals.parse("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(Intervals.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Intervals.parse("5s")).isEqualTo(Duration.ofSeconds(5));
    assertThat(Intervals.parse("10")).isNull();
    assertThat(Intervals.parse("10 m")).isNull();
    assertThat(Intervals.parse("-5s")).isNull();
    assertThat(Intervals.parse(null)).isNull();
    assertThat(Intervals.parse("99999999999999999999h")).isNull();
  }
}
