package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Leader election's way out: a lost Lease ends the process; a shutdown does not. */
class LeadershipTest {
  static final Settings SETTINGS =
      new Settings() {
        @Override
        public long defaultJobDeadlineSeconds() {
          return 900;
        }

        @Override
        public String leaseName() {
          return "schemagate-operator";
        }

        @Override
        public java.util.Optional<String> leaseNamespace() {
          return java.util.Optional.of("schemagate-system");
        }

        @Override
        public dev.schemagate.api.GateMode gateMode() {
          return dev.schemagate.api.GateMode.Pause;
        }

        @Override
        public boolean webhookEnabled() {
          return false;
        }

        @Override
        public java.util.Optional<java.util.List<String>> watchNamespaces() {
          return java.util.Optional.empty();
        }

        @Override
        public java.util.Optional<String> defaultJobCpuRequest() {
          return java.util.Optional.of("100m");
        }

        @Override
        public java.util.Optional<String> defaultJobMemoryRequest() {
          return java.util.Optional.of("256Mi");
        }

        @Override
        public java.util.Optional<String> defaultJobCpuLimit() {
          return java.util.Optional.of("1");
        }

        @Override
        public java.util.Optional<String> defaultJobMemoryLimit() {
          return java.util.Optional.of("512Mi");
        }

        @Override
        public java.util.Optional<String> defaultJobTmpSizeLimit() {
          return java.util.Optional.of("256Mi");
        }

        @Override
        public java.util.List<String> policyAllowedImages() {
          return java.util.List.of("*");
        }

        @Override
        public boolean policyRequireImageDigest() {
          return false;
        }

        @Override
        public java.util.List<String> policyAllowedServiceAccounts() {
          return java.util.List.of("default");
        }

        @Override
        public boolean policyAllowCustomCommands() {
          return true;
        }
      };

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
        new Leadership(null, SETTINGS, "pod_1", code -> exited.complete(Thread.currentThread()));
    leadership.stoppedLeading();
    Thread exiting = exited.get(5, TimeUnit.SECONDS);
    assertThat(exiting).isNotEqualTo(Thread.currentThread());
    assertThat(exiting.getName()).isEqualTo("lease-lost-exit");
  }

  @Test
  void stoppingLeadershipOnShutdownDoesNotExit() throws Exception {
    CompletableFuture<Integer> exited = new CompletableFuture<>();
    Leadership leadership = new Leadership(null, SETTINGS, "pod_1", exited::complete);
    leadership.onShutdown(null);
    leadership.stoppedLeading();
    Thread.sleep(Duration.ofMillis(200).toMillis());
    assertThat(exited).isNotDone();
  }
}
