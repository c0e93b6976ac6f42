package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.apps.ReplicaSetList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Wakes the ReplicaSets whose pods admission refused while no replica of the webhook answered. With
 * the chart's failurePolicy Fail and every replica down, the API server refuses every pod that
 * names a DatabaseMigration, and the ReplicaSet controller requeues the ReplicaSet with its
 * workqueue's rate limiter: 5 ms doubling at each failure up to 1,000 s (k8s.io/client-go@v0.36.3
 * util/workqueue/default_rate_limiters.go:50-56, used by
 * pkg/controller/replicaset/replica_set.go:215 and requeued at :641). After a few minutes' outage
 * its next try may be minutes after the webhook is back (measured: WebhookGateE2eTest). An update
 * of the ReplicaSet enqueues it at once, whatever its backoff: updateRS calls enqueueRS, which is
 * queue.Add, not AddRateLimited (Kubernetes v1.36.3, pkg/controller/replicaset/replica_set.go:394
 * and :426, enqueueRS at :367-375).
 *
 * <p>So when this replica's webhook starts serving, it looks every {@link #EVERY} for up to {@link
 * #FOR} at the ReplicaSets of gated workloads (their pod template carries the label
 * schemagate.dev/migration) that have fewer pods than they want and a ReplicaFailure condition (the
 * controller's FailedCreate), and writes {@link #ANNOTATION} on each: the controller tries again at
 * once. It stops at the first look that finds none. A look before the API server reaches this
 * replica (its readiness, then its endpoint) is refused like the rest and looked at again.
 */
public final class ReplicaSetNudge implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ReplicaSetNudge.class);

  /** The annotation written on a ReplicaSet to wake it: when, to the millisecond. */
  public static final String ANNOTATION = DatabaseMigration.GROUP + "/nudged-at";

  static final Duration EVERY = Duration.ofSeconds(2);
  static final Duration FOR = Duration.ofMinutes(3);

  private final KubernetesClient client;
  private final Optional<List<String>> namespaces;
  private final Clock clock;
  private final ScheduledExecutorService timer;
  private final Instant until;

  private ReplicaSetNudge(
      KubernetesClient client, Optional<List<String>> namespaces, Clock clock, boolean start) {
    this.client = client;
    this.namespaces = namespaces;
    this.clock = clock;
    this.until = clock.instant().plus(FOR);
    this.timer =
        start
            ? Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "replicaset-nudge");
                  t.setDaemon(true);
                  return t;
                })
            : null;
  }

  /** Starts looking, on a thread of its own, in the namespaces watched (all when none named). */
  public static ReplicaSetNudge start(
      KubernetesClient client, Optional<List<String>> namespaces, Clock clock) {
    ReplicaSetNudge nudge = new ReplicaSetNudge(client, namespaces, clock, true);
    nudge.timer.schedule(nudge::look, EVERY.toMillis(), TimeUnit.MILLISECONDS);
    return nudge;
  }

  /** One look, for tests: nudges what is refused now; gives back their names. */
  static List<String> once(KubernetesClient client, Optional<List<String>> namespaces, Clock c) {
    return new ReplicaSetNudge(client, namespaces, c, false).nudgeRefused();
  }

  private void look() {
    List<String> nudged;
    try {
      nudged = nudgeRefused();
    } catch (RuntimeException e) {
      LOG.warnf("could not look for ReplicaSets whose pods were refused: %s", e.getMessage());
      nudged = List.of("?");
    }
    if (!nudged.isEmpty() && clock.instant().isBefore(until)) {
      timer.schedule(this::look, EVERY.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      timer.shutdown();
    }
  }

  /** Nudges every ReplicaSet whose pods admission refused; gives back their names. */
  List<String> nudgeRefused() {
    List<String> nudged = new ArrayList<>();
    for (ReplicaSet rs : gated()) {
      if (!refused(rs)) {
        continue;
      }
      String ns = rs.getMetadata().getNamespace();
      String name = rs.getMetadata().getName();
      try {
        client
            .apps()
            .replicaSets()
            .inNamespace(ns)
            // the listed object, so that the client does not read it first
            .resource(rs)
            .patch(PatchContext.of(PatchType.JSON_MERGE), body(clock.instant()));
        nudged.add(ns + "/" + name);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          LOG.warnf(
              "could not wake ReplicaSet %s/%s (%d): %s", ns, name, e.getCode(), e.getMessage());
        }
      }
    }
    if (!nudged.isEmpty()) {
      LOG.infof(
          "woke the ReplicaSets whose pods admission refused while no webhook answered: %s",
          String.join(", ", nudged));
    }
    return nudged;
  }

  /** The merge patch that wakes a ReplicaSet: the annotation, new at every nudge. */
  static String body(Instant now) {
    return "{\"metadata\":{\"annotations\":{\"" + ANNOTATION + "\":\"" + now + "\"}}}";
  }

  /**
   * Whether the ReplicaSet is one of a gated workload whose pods were refused: its template names a
   * DatabaseMigration, it has fewer pods than it wants, and the controller reports a ReplicaFailure
   * (FailedCreate). Pure.
   */
  static boolean refused(ReplicaSet rs) {
    if (rs.getMetadata().getDeletionTimestamp() != null || rs.getSpec() == null) {
      return false;
    }
    var template = rs.getSpec().getTemplate();
    Map<String, String> labels =
        template == null || template.getMetadata() == null
            ? null
            : template.getMetadata().getLabels();
    if (labels == null || !labels.containsKey(PodRequirement.LABEL)) {
      return false;
    }
    int wanted = Objects.requireNonNullElse(rs.getSpec().getReplicas(), 1);
    int has =
        rs.getStatus() == null ? 0 : Objects.requireNonNullElse(rs.getStatus().getReplicas(), 0);
    return has < wanted
        && rs.getStatus() != null
        && rs.getStatus().getConditions() != null
        && rs.getStatus().getConditions().stream()
            .anyMatch(c -> "ReplicaFailure".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * The ReplicaSets labelled with a DatabaseMigration's name (the Deployment controller copies the
   * template's labels onto them), in pages.
   */
  private List<ReplicaSet> gated() {
    List<ReplicaSet> all = new ArrayList<>();
    for (String ns : namespaces.orElse(java.util.Collections.singletonList(null))) {
      String next = null;
      do {
        var options =
            new ListOptionsBuilder()
                .withLabelSelector(PodRequirement.LABEL)
                .withLimit(Caches.LIST_PAGE)
                .withContinue(next)
                .build();
        ReplicaSetList page =
            ns == null
                ? client.apps().replicaSets().inAnyNamespace().list(options)
                : client.apps().replicaSets().inNamespace(ns).list(options);
        all.addAll(page.getItems());
        next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
      } while (next != null && !next.isEmpty());
    }
    return all;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
