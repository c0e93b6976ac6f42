package dev.schemagate.operator.kube;

import dev.schemagate.operator.gate.MissingMigration;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.operator.status.MigrationMetrics;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.Predicate;

/**
 * The app's pods that name a DatabaseMigration that does not exist: reported whichever way
 * admission treated them ({@link MissingMigration}), as a Warning Event on their Deployment (on the
 * pod itself when no Deployment made it) and in the gauge schemagate_missing_migration_pods. No
 * reconcile tells them: there is no DatabaseMigration to reconcile. Fed by the informer of the
 * app's pods (each pod as it is added or changed), and told when a DatabaseMigration appears.
 */
public final class MissingMigrations {
  private record Waiting(String namespace, String migration, boolean gated) {}

  private final BiPredicate<String, String> exists;
  private final Predicate<Pod> present;
  private final BiFunction<String, String, Deployment> deployments;
  private final EventRecorder events;
  private final MigrationMetrics metrics;
  private final MissingMigration setting;
  private final Map<String, Waiting> pods = new ConcurrentHashMap<>();

  /**
   * @param exists whether a DatabaseMigration of that namespace and name exists (the primary cache)
   * @param present whether the pod is still in the informer's cache: a deletion comes as the pod
   *     last seen, and a pod never scheduled (one at the gate) is deleted at once, with no deletion
   *     timestamp
   * @param deployments a Deployment by namespace and name from the cache, or null
   * @param setting what admission does with such pods, for the message
   */
  public MissingMigrations(
      BiPredicate<String, String> exists,
      Predicate<Pod> present,
      BiFunction<String, String, Deployment> deployments,
      EventRecorder events,
      MigrationMetrics metrics,
      MissingMigration setting) {
    this.exists = exists;
    this.present = present;
    this.deployments = deployments;
    this.events = events;
    this.metrics = metrics;
    this.setting = setting;
  }

  /** A pod of the app's, as the informer brings it. */
  public void seen(Pod pod) {
    String ns = pod.getMetadata().getNamespace();
    String name = PodRequirement.migration(pod);
    String key = ns + "/" + pod.getMetadata().getName();
    boolean gone =
        pod.getMetadata().getDeletionTimestamp() != null
            || RunObserver.terminal(pod)
            || !present.test(pod);
    if (name == null || name.isBlank() || gone || exists.test(ns, name)) {
      if (pods.remove(key) != null) {
        publish();
      }
      return;
    }
    boolean gated = PodRequirement.gated(pod);
    Waiting before = pods.put(key, new Waiting(ns, name, gated));
    if (!Objects.equals(before, pods.get(key))) {
      publish();
    }
    HasMetadata about = deploymentOf(pod).map(d -> (HasMetadata) d).orElse(pod);
    String who =
        about instanceof Deployment
            ? "pods of Deployment " + about.getMetadata().getName()
            : "pod " + pod.getMetadata().getName();
    events.record(
        about,
        EventReason.MigrationNotFound,
        who
            + " name DatabaseMigration "
            + name
            + " (label "
            + PodRequirement.LABEL
            + "), which does not exist in namespace "
            + ns
            + ": "
            + (gated
                ? "they wait at the scheduling gate until it exists and the database has the"
                    + " revision they need"
                : "they run without waiting for any migration")
            + " (the chart's gate.admission.missingMigration is "
            + setting
            + "). Create it, or remove the label from the pod template");
  }

  /** A DatabaseMigration exists: its pods no longer name a missing one. */
  public void exists(String namespace, String migration) {
    if (pods.values()
        .removeIf(w -> w.namespace().equals(namespace) && w.migration().equals(migration))) {
      publish();
    }
  }

  private void publish() {
    Map<List<String>, Integer> counts =
        new TreeMap<>((a, b) -> String.join("/", a).compareTo(String.join("/", b)));
    for (Waiting w : pods.values()) {
      counts.merge(
          List.of(w.namespace(), w.migration(), Boolean.toString(w.gated())), 1, Integer::sum);
    }
    metrics.missingMigrationPods(counts);
  }

  /**
   * The Deployment whose ReplicaSet made the pod: the ReplicaSet is named after the Deployment and
   * the pod template's hash (label pod-template-hash), as the Deployment controller names it.
   */
  private Optional<Deployment> deploymentOf(Pod pod) {
    String hash =
        pod.getMetadata().getLabels() == null
            ? null
            : pod.getMetadata().getLabels().get("pod-template-hash");
    List<OwnerReference> owners = pod.getMetadata().getOwnerReferences();
    if (hash == null || owners == null) {
      return Optional.empty();
    }
    return owners.stream()
        .filter(o -> "ReplicaSet".equals(o.getKind()) && o.getName().endsWith("-" + hash))
        .map(o -> o.getName().substring(0, o.getName().length() - hash.length() - 1))
        .map(name -> deployments.apply(pod.getMetadata().getNamespace(), name))
        .filter(Objects::nonNull)
        .findFirst()
        .map(
            d ->
                new DeploymentBuilder()
                    .withNewMetadata()
                    .withName(d.getMetadata().getName())
                    .withNamespace(d.getMetadata().getNamespace())
                    .withUid(d.getMetadata().getUid())
                    .endMetadata()
                    .build());
  }
}
