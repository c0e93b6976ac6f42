package dev.schemagate.operator;

import dev.schemagate.api.GateMode;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;

/** Operator settings; each is also an environment variable (SCHEMAGATE_...). */
@ConfigMapping(prefix = "schemagate")
public interface Settings {
  /** SCHEMAGATE_DEFAULT_JOB_DEADLINE_SECONDS: activeDeadlineSeconds of Jobs that set none. */
  @WithDefault("900")
  long defaultJobDeadlineSeconds();

  /**
   * SCHEMAGATE_GATE_MODE: how DatabaseMigrations that set no spec.gate.mode hold their app:
   * Admission (the cluster has the chart's admission policy or webhook) or Pause.
   */
  @WithDefault("Pause")
  GateMode gateMode();

  /**
   * SCHEMAGATE_WEBHOOK_ENABLED: serve the admission webhook (POST /mutate-pods, on the HTTPS port
   * the chart configures) from every replica.
   */
  @WithDefault("false")
  boolean webhookEnabled();

  /** SCHEMAGATE_WATCH_NAMESPACES: the namespaces watched; unset, all of them. */
  Optional<List<String>> watchNamespaces();

  /** SCHEMAGATE_LEASE_NAME: the Lease used for leader election. */
  @WithDefault("schemagate-operator")
  String leaseName();

  /** SCHEMAGATE_LEASE_NAMESPACE: its namespace; unset, the operator's own namespace. */
  Optional<String> leaseNamespace();
}
