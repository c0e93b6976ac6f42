package dev.schemagate.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
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

  /** Leader election on a Lease, active in the prod profile (only the leader reconciles). */
  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection(Settings settings) {
    return new LeaderElectionConfiguration(settings.leaseName(), settings.leaseNamespace().orElse(null));
  }
}
