package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The DatabaseMigrations the admission webhook decides from, kept by every replica (the
 * controller's caches run on the leader only, and the webhook must answer on all of them).
 */
public final class WebhookCache implements AutoCloseable {
  private final List<SharedIndexInformer<DatabaseMigration>> informers = new ArrayList<>();

  /**
   * Starts informers on the namespaces watched (all when none are named), listing in pages and
   * keeping what the primary cache keeps ({@link MigrationStore}).
   */
  public WebhookCache(KubernetesClient client, Optional<List<String>> namespaces) {
    var resources = client.resources(DatabaseMigration.class);
    if (namespaces.isEmpty()) {
      informers.add(start(resources.inAnyNamespace().withLimit(Caches.LIST_PAGE)));
    } else {
      for (String ns : namespaces.get()) {
        informers.add(start(resources.inNamespace(ns).withLimit(Caches.LIST_PAGE)));
      }
    }
  }

  private static SharedIndexInformer<DatabaseMigration> start(
      Informable<DatabaseMigration> resources) {
    SharedIndexInformer<DatabaseMigration> informer =
        resources.runnableInformer(0).itemStore(new MigrationStore());
    informer.start();
    return informer;
  }

  /** The DatabaseMigration as cached, or null. */
  public DatabaseMigration get(String namespace, String name) {
    if (name == null) {
      return null;
    }
    for (SharedIndexInformer<DatabaseMigration> informer : informers) {
      DatabaseMigration dbm = informer.getStore().getByKey(namespace + "/" + name);
      if (dbm != null) {
        return dbm;
      }
    }
    return null;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
