package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.Collection;
import java.util.List;

/** What the steps read of the cluster: the informer caches, never the API server. */
public interface ClusterView {
  /** A Job by name, or null. */
  Job job(String namespace, String name);

  /** The Jobs of a DatabaseMigration's runs. */
  List<Job> jobs(DatabaseMigration dbm);

  /** The pods of a run. */
  Collection<Pod> pods(String namespace, String runId);

  /** The Job controller's Events that it could not create a pod of this Job (FailedCreate). */
  Collection<Event> failedCreates(Job job);

  /** A Deployment by name, or null. */
  Deployment deployment(String namespace, String name);

  /** The pods that name a DatabaseMigration (label schemagate.dev/migration). */
  List<Pod> appPods(String namespace, String migration);
}
