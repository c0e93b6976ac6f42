package dev.schemagate.operator.base;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Deterministic, short and valid names. */
class NamesTest {

  @Test
  void jobNamesAreDeterministicShortAndValid() {
    String id = Names.hash("a", "b");
    assertThat(id).hasSize(10).isEqualTo(Names.hash("a", "b")).isNotEqualTo(Names.hash("a", "c"));
    assertThat(Names.hash("ab", "c")).isNotEqualTo(Names.hash("a", "bc"));
    String longName = "a".repeat(60) + "-" + "b".repeat(100);
    assertThat(Names.jobName(longName, id)).hasSize(63).endsWith("-" + id);
    assertThat(Names.jobName("orders", id)).isEqualTo("orders-" + id);
    assertThat(Names.jobName("a".repeat(51) + "-x", id)).doesNotContain("--");
    assertThat(Names.isValidObjectName("orders-api")).isTrue();
    assertThat(Names.isValidObjectName("Orders_API")).isFalse();
    assertThat(Names.isValidObjectName("-x")).isFalse();
  }
}
