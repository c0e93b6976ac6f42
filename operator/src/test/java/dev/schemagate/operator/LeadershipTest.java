package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Leader election's way out: a lost Lease ends the process; a shutdown does not. */
class LeadershipTest {
  static final String LEASE = "schemagate-operator";

  @Test
  void theIdentityIsThePodNameWithASuffixOfItsOwn() {
    String a = Leadership.identity("schemagate-7d9f-abcde");
    String b = Leadership.identity("schemagate-7d9f-abcde");
    assertThat(a)
        .startsWith("schemagate-7d9f-abcde_")
        .hasSize("schemagate-7d9f-abcde_".length() + 8);
    assertThat(a).as("a restarted container is not taken for its predecessor").isNotEqualTo(b);
    assertThat(Leadership.identity(null)).startsWith("schemagate_");
  }

  @Test
  void aLostLeaseEndsTheProcessOnAThreadOfItsOwn() throws Exception {
    CompletableFuture<Thread> exited = new CompletableFuture<>();
    Leadership leadership =
        new Leadership(
            null,
            LEASE,
            Optional.of("schemagate-system"),
            "pod_1",
            code -> exited.complete(Thread.currentThread()));
    leadership.stoppedLeading();
    Thread exiting = exited.get(5, TimeUnit.SECONDS);
    assertThat(exiting).isNotEqualTo(Thread.currentThread());
    assertThat(exiting.getName()).isEqualTo("lease-lost-exit");
  }

  @Test
  void stoppingLeadershipOnShutdownDoesNotExit() throws Exception {
    CompletableFuture<Integer> exited = new CompletableFuture<>();
    Leadership leadership =
        new Leadership(null, LEASE, Optional.of("schemagate-system"), "pod_1", exited::complete);
    leadership.onShutdown(null);
    leadership.stoppedLeading();
    Thread.sleep(Duration.ofMillis(200).toMillis());
    assertThat(exited).isNotDone();
  }

  /** schemagate_leader, which SchemagateNoLeader reads: 1 only while this replica reconciles. */
  @Test
  void theLeaderGaugeIsOneWhileThisReplicaReconciles() {
    Leadership leadership =
        new Leadership(null, LEASE, Optional.of("schemagate-system"), "pod_1", code -> {});
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    leadership.exportTo(registry);
    assertThat(registry.get("schemagate.leader").gauge().value())
        .as("no leader election (tests, scripts/operator): it reconciles")
        .isEqualTo(1);
    LeaderCallbacks callbacks = leadership.callbacks();
    assertThat(registry.get("schemagate.leader").gauge().value())
        .as("leader election on, not leading yet")
        .isZero();
    callbacks.onStartLeading();
    assertThat(registry.get("schemagate.leader").gauge().value()).isEqualTo(1);
    leadership.onShutdown(null);
    callbacks.onStopLeading();
    assertThat(registry.get("schemagate.leader").gauge().value()).isZero();
  }
}
