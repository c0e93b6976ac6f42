package dev.schemagate.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Clock;

/** Beans the operator's pieces share. */
public class OperatorBeans {

  @Produces
  @Singleton
  Clock clock() {
    return Clock.systemUTC();
  }

  /**
   * The operator SDK's metrics without its per-resource series: those grow with every
   * DatabaseMigration (thousands of histograms for a thousand resources, and a /metrics page that
   * no longer fits the heap). schemagate's own metrics keep what matters per resource.
   */
  @Produces
  @Singleton
  Metrics sdkMetrics(MeterRegistry registry) {
    return MicrometerMetrics.withoutPerResourceMetrics(registry);
  }

  /**
   * Leader election on a Lease, active in the prod profile (only the leader reconciles): the SDK's
   * durations (15 s Lease, 10 s renew deadline, 2 s retry period), an identity of this process's
   * own, and {@link Leadership}'s callbacks, which end the process on a lost Lease and release it
   * on shutdown. The SDK's own exit on stopping leadership is off: it deadlocked the shutdown hook.
   */
  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection(Settings settings, Leadership leadership) {
    return new LeaderElectionConfiguration(
        settings.leaseName(),
        settings.leaseNamespace().orElse(null),
        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
        leadership.identity(),
        leadership.callbacks(),
        false);
  }
}
