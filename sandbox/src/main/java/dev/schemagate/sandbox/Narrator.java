package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prints one line per step of a migration's lifecycle and of the rollouts it holds, as it happens,
 * in causal order: a rollout that a migration released is told after the migration's Ready.
 */
public final class Narrator implements AutoCloseable {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  /** The pod label that names the DatabaseMigration a pod needs, and the gate it waits at. */
  static final String LABEL = "schemagate.dev/migration";

  private final PrintStream out;
  private final Cluster cluster;
  private final Map<String, String> lastMigration = new ConcurrentHashMap<>();
  private final Map<String, String> lastDeployment = new ConcurrentHashMap<>();
  private final List<String> said = new ArrayList<>();
  private int stepStart;
  private final SharedIndexInformer<GenericKubernetesResource> migrations;
  private final SharedIndexInformer<Deployment> deployments;
  private final SharedIndexInformer<Pod> pods;

  private volatile boolean closed;

  /** Narrates the DatabaseMigrations, Deployments and gated pods of one namespace. */
  public Narrator(KubernetesClient client, Cluster cluster, String namespace, PrintStream out) {
    this.out = out;
    this.cluster = cluster;
    pods =
        client
            .pods()
            .inNamespace(namespace)
            .withLabel(LABEL)
            .inform(Handlers.onChange(p -> deployments()));
    migrations =
        client
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(namespace)
            .inform(Handlers.onChange(this::migration));
    deployments =
        client
            .apps()
            .deployments()
            .inNamespace(namespace)
            .inform(Handlers.onChange(this::deployment));
  }

  /** Every Deployment again (a pod or a migration changed). */
  private void deployments() {
    if (deployments != null) {
      deployments.getStore().list().forEach(this::deployment);
    }
  }

  private synchronized void migration(GenericKubernetesResource dbm) {
    tellMigration(dbm);
    // a rollout it released, held back until it was told
    deployments();
  }

  @SuppressWarnings("unchecked")
  private void tellMigration(GenericKubernetesResource dbm) {
    Map<String, Object> status = (Map<String, Object>) dbm.getAdditionalProperties().get("status");
    if (status == null) {
      return;
    }
    String name = dbm.getMetadata().getName();
    String phase = String.valueOf(status.get("phase"));
    Map<String, Object> run = (Map<String, Object>) status.get("activeRun");
    String stalled = stalledReason(status);
    String state =
        phase
            + "|"
            + (run == null ? "" : run.get("job"))
            + "|"
            + stalled
            + "|"
            + status.get("currentRevision");
    if (Objects.equals(lastMigration.put(name, state), state)) {
      return;
    }
    switch (phase) {
      case "Migrating" ->
          say(
              name,
              "migrating: Job "
                  + run.get("job")
                  + " runs "
                  + run.get("direction")
                  + " to "
                  + run.get("toRevision")
                  + " with "
                  + run.get("image"));
      case "Ready" -> {
        List<Map<String, Object>> history = (List<Map<String, Object>>) status.get("history");
        Map<String, Object> last = history == null || history.isEmpty() ? Map.of() : history.get(0);
        StringBuilder applied = new StringBuilder();
        for (Map<String, Object> m :
            (List<Map<String, Object>>) last.getOrDefault("applied", List.of())) {
          applied
              .append(applied.length() == 0 ? "" : ", ")
              .append(m.get("revision"))
              .append(' ')
              .append(m.getOrDefault("description", ""))
              .append(" (")
              .append(m.get("durationMs"))
              .append(" ms)");
        }
        say(
            name,
            "Ready at revision "
                + status.get("currentRevision")
                + (applied.length() == 0
                    ? ""
                    : ": "
                        + ("downgrade".equals(last.get("direction")) ? "undid " : "applied ")
                        + applied));
      }
      case "Failed" -> say(name, "Failed (" + stalled + "): " + stalledMessage(status));
      default -> say(name, phase);
    }
  }

  private synchronized void deployment(Deployment d) {
    if (closed) {
      return;
    }
    String name = d.getMetadata().getName();
    boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
    String holder =
        d.getMetadata().getAnnotations() == null
            ? null
            : d.getMetadata().getAnnotations().get("schemagate.dev/held-by");
    String rolled = cluster.rolledOutImage(d.getMetadata().getNamespace(), name);
    String wanted = d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
    String needs = labels == null ? null : labels.get(LABEL);
    List<Pod> gated =
        pods.getStore().list().stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .filter(p -> selects(d, p))
            .filter(
                p ->
                    p.getSpec().getSchedulingGates() != null
                        && p.getSpec().getSchedulingGates().stream()
                            .anyMatch(g -> LABEL.equals(g.getName())))
            .toList();
    String state;
    String line;
    if (paused) {
      if (rolled.isEmpty()) {
        return;
      }
      state = "paused|" + holder + "|" + rolled + "|" + wanted;
      line =
          "held"
              + (holder == null ? " (paused by a person)" : " by " + holder)
              + ": serving "
              + rolled
              + (rolled.equals(wanted) ? "" : ", " + wanted + " waits");
    } else if (!gated.isEmpty()) {
      String waiting = gated.get(0).getSpec().getContainers().get(0).getImage();
      String by = gated.get(0).getMetadata().getLabels().get(LABEL);
      // what the Deployment's pods that run serve meanwhile
      String serving =
          String.join(
              ", ",
              pods.getStore().list().stream()
                  .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                  .filter(p -> selects(d, p))
                  .filter(Narrator::ready)
                  .map(p -> p.getSpec().getContainers().get(0).getImage())
                  .distinct()
                  .sorted()
                  .toList());
      state = "gated|" + by + "|" + waiting + "|" + serving;
      line =
          "held by "
              + by
              + ": new pods of "
              + waiting
              + " wait at the scheduling gate"
              + (serving.isEmpty() ? "" : "; serving " + serving);
    } else if (!rolled.isEmpty()
        && rolled.equals(wanted)
        && d.getStatus() != null
        && Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration())) {
      if (needs != null && !"Ready".equals(phaseTold(needs))) {
        return; // told once the migration it needs is told Ready
      }
      state = "rolled|" + rolled;
      line = "rolled out " + rolled;
    } else {
      return;
    }
    if (Objects.equals(lastDeployment.put(name, state), state)) {
      return;
    }
    say(name, line);
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The phase last told of a DatabaseMigration, or null. */
  private String phaseTold(String migration) {
    String state = lastMigration.get(migration);
    return state == null ? null : state.substring(0, state.indexOf('|'));
  }

  /** Whether the Deployment's selector (matchLabels) takes the pod. */
  private static boolean selects(Deployment d, Pod p) {
    Map<String, String> match = d.getSpec().getSelector().getMatchLabels();
    Map<String, String> labels = p.getMetadata().getLabels();
    return match != null
        && !match.isEmpty()
        && labels != null
        && labels.entrySet().containsAll(match.entrySet());
  }

  @SuppressWarnings("unchecked")
  private static String stalledReason(Map<String, Object> status) {
    for (Map<String, Object> c :
        (List<Map<String, Object>>) status.getOrDefault("conditions", List.of())) {
      if ("Stalled".equals(c.get("type")) && "True".equals(c.get("status"))) {
        return String.valueOf(c.get("reason"));
      }
    }
    return "";
  }

  @SuppressWarnings("unchecked")
  private static String stalledMessage(Map<String, Object> status) {
    for (Map<String, Object> c :
        (List<Map<String, Object>>) status.getOrDefault("conditions", List.of())) {
      if ("Stalled".equals(c.get("type"))) {
        return String.valueOf(c.get("message"));
      }
    }
    return "";
  }

  public synchronized void say(String who, String what) {
    out.printf("%s  %-12s %s%n", TIME.format(LocalTime.now()), who, what);
    if (who.startsWith("step ")) {
      stepStart = said.size();
    }
    said.add(String.format("%-12s %s", who, what));
  }

  /** Whether a line that begins so (who, then what) was told since the last step began. */
  public synchronized boolean toldInThisStep(String who, String what) {
    String prefix = String.format("%-12s %s", who, what);
    return said.subList(stepStart, said.size()).stream().anyMatch(l -> l.startsWith(prefix));
  }

  @Override
  public void close() {
    closed = true;
    migrations.close();
    deployments.close();
    pods.close();
  }
}
