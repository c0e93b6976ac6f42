package dev.schemagate.operator;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Operator settings; each is also an environment variable (SCHEMAGATE_...). */
@ConfigMapping(prefix = "schemagate")
public interface Settings {
  /** SCHEMAGATE_DEFAULT_JOB_DEADLINE_SECONDS: activeDeadlineSeconds of Jobs that set none. */
  @WithDefault("900")
  long defaultJobDeadlineSeconds();

  /** SCHEMAGATE_LEASE_NAME: the Lease used for leader election. */
  @WithDefault("schemagate-operator")
  String leaseName();

  /** SCHEMAGATE_LEASE_NAMESPACE: its namespace; unset, the operator's own namespace. */
  Optional<String> leaseNamespace();
}
