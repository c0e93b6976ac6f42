package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The store of the primary informer: DatabaseMigrations without {@code metadata.managedFields} and
 * without kubectl's last-applied-configuration annotation, which no step reads (the operator writes
 * with JSON merge patches and the status subresource, not server-side apply). On the real API
 * server every object carries its managed fields, a tree of maps per field manager, a large share
 * of the live heap with thousands of DatabaseMigrations (bench/README.md, issue 15, third round).
 * Trimmed in place, as {@link TrimmedStore} does, so that the informer's queue to its handlers
 * holds no more than the store.
 */
public final class MigrationStore extends TrimmedStore<DatabaseMigration> {
  static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

  public MigrationStore() {
    super(MigrationStore::trim);
  }

  /** Leaves out of a DatabaseMigration what this store does not keep, in place; gives it back. */
  static DatabaseMigration trim(DatabaseMigration dbm) {
    TrimmedStore.stripManagedFields(dbm);
    ObjectMeta meta = dbm.getMetadata();
    if (meta != null) {
      Map<String, String> annotations = meta.getAnnotations();
      if (annotations != null && annotations.containsKey(LAST_APPLIED)) {
        Map<String, String> kept = new LinkedHashMap<>(annotations);
        kept.remove(LAST_APPLIED);
        meta.setAnnotations(kept);
      }
    }
    return dbm;
  }
}
