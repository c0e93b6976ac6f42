package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.Sandbox;
import java.util.Optional;

/**
 * One way of migrating a database before an app's new version rolls out, measured on the sandbox
 * cluster beside the others in the same run (bash scripts/bench peers).
 */
public interface Peer {
  /** Its name in the table. */
  String name();

  /** Puts what it needs on the cluster (images, a controller); once per run, before any round. */
  void install(Sandbox sandbox) throws Exception;

  /**
   * One round: migrates the empty database {@code database} (made by the harness; pods reach it at
   * {@code sandbox.database.url(database)}) with {@code set}, in {@code namespace}, then lets the
   * Deployment {@code app} of that namespace roll out to {@code appImage}. Returns what it
   * observed.
   */
  Round round(
      Sandbox sandbox,
      String namespace,
      String database,
      MigrationSet set,
      String app,
      String appImage)
      throws Exception;

  /**
   * Makes {@code count} resources of its kind at rest (each already migrated once), for the figures
   * at rest; a peer with no controller makes nothing.
   */
  void rest(Sandbox sandbox, String namespace, int count) throws Exception;

  /** The controller's pod ("namespace/name") whose cgroup is measured, if it has one. */
  Optional<String> controllerPod(Sandbox sandbox);

  /** The user name its controller calls the API server as, if it has one. */
  Optional<String> apiUser();

  /**
   * CPU seconds the last round spent in processes outside the node's pods (a migration run as a
   * process of its own); 0 for a peer whose work all runs in pods.
   */
  default double processCpuSeconds() {
    return 0;
  }

  /** Whether its rounds roll out an app (a floor row does not: its serving column is empty). */
  default boolean rollsOut() {
    return true;
  }
}
