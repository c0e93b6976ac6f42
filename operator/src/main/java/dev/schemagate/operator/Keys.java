package dev.schemagate.operator;

/** Label and annotation keys the operator reads and writes. */
public final class Keys {
  public static final String PREFIX = "schemagate.dev/";
  /** On a Deployment: comma-separated names of the DatabaseMigrations that hold it paused. */
  public static final String HELD_BY = PREFIX + "held-by";
  /** On a DatabaseMigration: a new value asks for a failed run to be tried again. */
  public static final String RETRY = PREFIX + "retry";
  /** On Jobs and their pods: the DatabaseMigration's name (annotation: names may exceed 63). */
  public static final String MIGRATION = PREFIX + "migration";
  public static final String RUN_ID = PREFIX + "run-id";
  public static final String DIRECTION = PREFIX + "direction";
  public static final String TARGET_REVISION = PREFIX + "target-revision";
  public static final String FROM_REVISION = PREFIX + "from-revision";
  public static final String REQUESTED_IMAGE = PREFIX + "requested-image";
  public static final String GENERATION = PREFIX + "generation";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "schemagate";
  public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + MANAGER;
  public static final String FINALIZER = "schemagate.dev/finalizer";

  private Keys() {}

  /** An annotation's value, or null. */
  public static String annotation(io.fabric8.kubernetes.api.model.HasMetadata resource, String key) {
    java.util.Map<String, String> annotations = resource.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }
}
