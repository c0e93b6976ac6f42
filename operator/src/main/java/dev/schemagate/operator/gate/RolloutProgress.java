package dev.schemagate.operator.gate;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * How far the gated workloads have rolled out, as the contract part of a release needs it: a
 * Deployment has rolled out completely when its controller has seen its latest template, every
 * replica runs that template and is available, and no pod of an older one is left (the test of
 * {@code kubectl rollout status}). A Deployment whose progress deadline passed (Progressing=False,
 * ProgressDeadlineExceeded) is stuck. A Deployment rolled back onto a template that requires a
 * revision the contract part would contract has not rolled out: contracting would break its pods.
 * Pure.
 *
 * @param waiting the workloads still rolling out, each with what it lacks
 * @param stuck the workloads whose rollout is stuck, each with why
 */
public record RolloutProgress(List<String> waiting, List<String> stuck) {
  /** Nothing to roll out. */
  public static final RolloutProgress COMPLETE = new RolloutProgress(List.of(), List.of());

  public RolloutProgress {
    waiting = List.copyOf(waiting);
    stuck = List.copyOf(stuck);
  }

  /** Whether every gated workload has rolled out completely. */
  public boolean complete() {
    return waiting.isEmpty() && stuck.isEmpty();
  }

  /**
   * The progress of the named Deployments (one that does not exist has nothing to roll out) and of
   * the app's pods still waiting at the scheduling gate.
   *
   * @param gatedPods the names of the pods that name the DatabaseMigration and wait at its gate
   */
  public static RolloutProgress of(
      Collection<String> names, Function<String, Deployment> lookup, List<String> gatedPods) {
    return of(names, lookup, gatedPods, null, required -> null);
  }

  /**
   * The same, where a Deployment whose pod template names the DatabaseMigration and requires a
   * revision the contract part would contract (a rollback, or a release that requires too old a
   * revision) has not rolled out: its pods would lose what they use.
   *
   * @param migration the DatabaseMigration's name
   * @param contractedBy the migration of the contract part that would contract a required revision,
   *     or null when the revision survives it
   */
  public static RolloutProgress of(
      Collection<String> names,
      Function<String, Deployment> lookup,
      List<String> gatedPods,
      String migration,
      Function<String, String> contractedBy) {
    List<String> waiting = new ArrayList<>();
    List<String> stuck = new ArrayList<>();
    for (String name : names) {
      Deployment d = lookup.apply(name);
      if (d == null || d.getSpec() == null) {
        continue;
      }
      String contracted = contractedTemplate(d, migration, contractedBy);
      if (contracted != null) {
        waiting.add(name + " (" + contracted + ")");
        continue;
      }
      String deadline = deadlineExceeded(d);
      if (deadline != null) {
        stuck.add(name + ": " + deadline);
        continue;
      }
      String lacks = lacks(d);
      if (lacks != null) {
        waiting.add(name + " (" + lacks + ")");
      }
    }
    if (!gatedPods.isEmpty()) {
      waiting.add(
          gatedPods.size()
              + (gatedPods.size() == 1 ? " pod" : " pods")
              + " at the scheduling gate ("
              + gatedPods.get(0)
              + (gatedPods.size() > 1 ? ", ..." : "")
              + ")");
    }
    return new RolloutProgress(waiting, stuck);
  }

  /**
   * Why the Deployment's pod template cannot run once the contract part ran, or null: it names the
   * DatabaseMigration and requires a revision the contract part would contract.
   */
  static String contractedTemplate(
      Deployment d, String migration, Function<String, String> contractedBy) {
    ObjectMeta meta =
        d.getSpec().getTemplate() == null ? null : d.getSpec().getTemplate().getMetadata();
    if (meta == null || meta.getAnnotations() == null) {
      return null;
    }
    String label = meta.getLabels() == null ? null : meta.getLabels().get(PodRequirement.LABEL);
    String required = meta.getAnnotations().get(PodRequirement.REQUIRES);
    if (required == null || required.isEmpty() || (label != null && !label.equals(migration))) {
      return null;
    }
    String contract = contractedBy.apply(required);
    return contract == null
        ? null
        : "its pod template requires revision "
            + required
            + ", which contract migration "
            + contract
            + " would contract: roll forward to a template that requires "
            + contract
            + " or later";
  }

  /** What the Deployment lacks to have rolled out completely, or null when it has. */
  static String lacks(Deployment d) {
    if (Boolean.TRUE.equals(d.getSpec().getPaused())) {
      return "paused";
    }
    DeploymentStatus status = d.getStatus();
    long generation = Objects.requireNonNullElse(d.getMetadata().getGeneration(), 0L);
    if (status == null
        || Objects.requireNonNullElse(status.getObservedGeneration(), 0L) < generation) {
      return "its controller has not seen the latest template yet";
    }
    int desired = Objects.requireNonNullElse(d.getSpec().getReplicas(), 1);
    int updated = Objects.requireNonNullElse(status.getUpdatedReplicas(), 0);
    int total = Objects.requireNonNullElse(status.getReplicas(), 0);
    int available = Objects.requireNonNullElse(status.getAvailableReplicas(), 0);
    if (updated < desired) {
      return updated + " of " + desired + " replicas on the new template";
    }
    if (total > updated) {
      return (total - updated)
          + " old "
          + (total - updated == 1 ? "replica" : "replicas")
          + " left";
    }
    if (available < updated) {
      return available + " of " + updated + " new replicas available";
    }
    return null;
  }

  private static String deadlineExceeded(Deployment d) {
    if (d.getStatus() == null || d.getStatus().getConditions() == null) {
      return null;
    }
    for (DeploymentCondition c : d.getStatus().getConditions()) {
      if ("Progressing".equals(c.getType())
          && "False".equals(c.getStatus())
          && "ProgressDeadlineExceeded".equals(c.getReason())) {
        Integer seconds = d.getSpec().getProgressDeadlineSeconds();
        return "ProgressDeadlineExceeded after progressDeadlineSeconds "
            + (seconds == null ? 600 : seconds)
            + (c.getMessage() == null || c.getMessage().isBlank()
                ? ""
                : " (" + c.getMessage() + ")");
      }
    }
    return null;
  }
}
