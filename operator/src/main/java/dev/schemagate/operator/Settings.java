package dev.schemagate.operator;

import dev.schemagate.api.GateMode;
import dev.schemagate.operator.gate.MissingMigration;
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
   * SCHEMAGATE_GATE_MISSING_MIGRATION: what admission does with a pod that names a
   * DatabaseMigration that does not exist: Hold (at the scheduling gate until it exists and is
   * where the pod needs) or Admit (ungated). The chart's admission policy does the same
   * (gate.admission.missingMigration).
   */
  @WithDefault("Hold")
  MissingMigration gateMissingMigration();

  /**
   * SCHEMAGATE_WEBHOOK_ENABLED: serve the admission webhook (POST /mutate-pods) from every replica,
   * over HTTPS only, on a port of its own (the plain HTTP port serves only metrics and health).
   */
  @WithDefault("false")
  boolean webhookEnabled();

  /** SCHEMAGATE_WEBHOOK_PORT: the webhook's HTTPS port. */
  @WithDefault("8443")
  int webhookPort();

  /**
   * SCHEMAGATE_WEBHOOK_CERT_FILE: the webhook's PEM certificate chain, read again every 10 s: a
   * renewed one is served without a restart.
   */
  @WithDefault("/etc/schemagate/webhook/tls.crt")
  String webhookCertFile();

  /** SCHEMAGATE_WEBHOOK_KEY_FILE: its PEM private key, read with it. */
  @WithDefault("/etc/schemagate/webhook/tls.key")
  String webhookKeyFile();

  /** SCHEMAGATE_WATCH_NAMESPACES: the namespaces watched; unset, all of them. */
  Optional<List<String>> watchNamespaces();

  /** SCHEMAGATE_LEASE_NAME: the Lease used for leader election. */
  @WithDefault("schemagate-operator")
  String leaseName();

  /** SCHEMAGATE_LEASE_NAMESPACE: its namespace; unset, the operator's own namespace. */
  Optional<String> leaseNamespace();

  /** SCHEMAGATE_DEFAULT_JOB_CPU_REQUEST: the migration container's CPU request ("none": none). */
  @WithDefault("100m")
  Optional<String> defaultJobCpuRequest();

  /** SCHEMAGATE_DEFAULT_JOB_MEMORY_REQUEST: its memory request. */
  @WithDefault("256Mi")
  Optional<String> defaultJobMemoryRequest();

  /** SCHEMAGATE_DEFAULT_JOB_CPU_LIMIT: its CPU limit. */
  @WithDefault("1")
  Optional<String> defaultJobCpuLimit();

  /** SCHEMAGATE_DEFAULT_JOB_MEMORY_LIMIT: its memory limit. */
  @WithDefault("512Mi")
  Optional<String> defaultJobMemoryLimit();

  /** SCHEMAGATE_DEFAULT_JOB_TMP_SIZE_LIMIT: the size limit of the Job's /tmp emptyDir. */
  @WithDefault("256Mi")
  Optional<String> defaultJobTmpSizeLimit();

  /**
   * SCHEMAGATE_ALEMBIC_KIT_IMAGE: the image of the Alembic kit (schemagate/alembic-kit of the
   * operator's release; the chart sets it), which an Alembic Job's init container copies into the
   * pod. Unset: no Alembic run starts, and the DatabaseMigration says why.
   */
  Optional<String> alembicKitImage();

  /**
   * SCHEMAGATE_POLICY_ALLOWED_IMAGES: comma-separated image patterns migrations may use ({@code *}
   * any characters; {@code *} alone: any image).
   */
  @WithDefault("*")
  List<String> policyAllowedImages();

  /** SCHEMAGATE_POLICY_REQUIRE_IMAGE_DIGEST: whether images must be given by digest. */
  @WithDefault("false")
  boolean policyRequireImageDigest();

  /**
   * SCHEMAGATE_POLICY_ALLOWED_SERVICE_ACCOUNTS: comma-separated service accounts Jobs may run as
   * ({@code *}: any); a Job that names none runs as {@code default}.
   */
  @WithDefault("default")
  List<String> policyAllowedServiceAccounts();

  /** SCHEMAGATE_POLICY_ALLOW_CUSTOM_COMMANDS: whether tool: custom may run its own command. */
  @WithDefault("true")
  boolean policyAllowCustomCommands();
}
