package dev.schemagate.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The node's pod addresses: one per pod, never a network or broadcast one, free once it is gone.
 */
class PodIpsTest {

  @Test
  void aSuiteOfHundredsOfPodsNeverRunsOutAndAGoneOnesAddressIsFree() {
    PodIps ips = new PodIps(true);
    Set<String> given = new HashSet<>();
    for (int i = 0; i < 2_000; i++) {
      String ip = ips.take("pod-" + i);
      assertThat(ip).startsWith("10.244.").doesNotEndWith(".0").doesNotEndWith(".255");
      assertThat(ips.take("pod-" + i)).as("a pod keeps its address").isEqualTo(ip);
      given.add(ip);
    }
    assertThat(given).as("one address per pod").hasSize(2_000);

    for (int i = 0; i < 2_000; i++) {
      ips.release("pod-" + i);
    }
    for (int round = 0; round < 40; round++) {
      for (int i = 0; i < 2_000; i++) {
        ips.take("round-" + round + "-" + i);
      }
      for (int i = 0; i < 2_000; i++) {
        ips.release("round-" + round + "-" + i);
      }
    }
    assertThat(ips.take("after-80000-pods")).startsWith("10.244.");
  }

  @Test
  void withoutTheRouteTheAddressesAreLoopbackOnes() {
    PodIps ips = new PodIps(false);
    assertThat(ips.routable()).isFalse();
    assertThat(ips.take("a")).startsWith("127.244.");
  }
}
