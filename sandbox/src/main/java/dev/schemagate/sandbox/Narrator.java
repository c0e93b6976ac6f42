package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.PrintStream;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/** Prints one line per step of a migration's lifecycle, as it happens. */
public final class Narrator implements AutoCloseable {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
  private final PrintStream out;
  private final Cluster cluster;
  private final Map<String, String> lastMigration = new ConcurrentHashMap<>();
  private final Map<String, String> lastDeployment = new ConcurrentHashMap<>();
  private final SharedIndexInformer<GenericKubernetesResource> migrations;
  private final SharedIndexInformer<Deployment> deployments;

  private volatile boolean closed;

  /** Narrates the DatabaseMigrations and Deployments of one namespace. */
  public Narrator(KubernetesClient client, Cluster cluster, String namespace, PrintStream out) {
    this.out = out;
    this.cluster = cluster;
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

  @SuppressWarnings("unchecked")
  private void migration(GenericKubernetesResource dbm) {
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

  private void deployment(Deployment d) {
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
    boolean rolledOut =
        d.getStatus() != null
            && Objects.equals(
                d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration())
            && Objects.equals(d.getStatus().getUpdatedReplicas(), d.getSpec().getReplicas());
    if ((!paused && !rolledOut) || rolled.isEmpty()) {
      return;
    }
    String state = paused + "|" + holder + "|" + rolled + "|" + wanted;
    if (Objects.equals(lastDeployment.put(name, state), state)) {
      return;
    }
    if (paused) {
      say(
          name,
          "held"
              + (holder == null ? " (paused by a person)" : " by " + holder)
              + ": serving "
              + rolled
              + (rolled.equals(wanted) ? "" : ", " + wanted + " waits"));
    } else {
      say(name, "rolled out " + rolled);
    }
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
  }

  @Override
  public void close() {
    closed = true;
    migrations.close();
    deployments.close();
  }
}
