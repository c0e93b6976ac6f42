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

  /** Leader election on a Lease, active in the prod profile (only the leader reconciles). */
  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection(Settings settings) {
    return new LeaderElectionConfiguration(
        settings.leaseName(), settings.leaseNamespace().orElse(null));
  }
}
