package dev.schemagate.operator.reconcile;

import dev.schemagate.api.GateMode;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.run.JobFactory;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Step: lift the scheduling gate from every pod that names this DatabaseMigration and whose
 * revision is now in place (or already was, by the revisions applied); count those that still wait,
 * and why. In Admission mode, warn of a gated Deployment whose progress deadline ends before the
 * migration's may: it would report ProgressDeadlineExceeded while its pods wait.
 */
public final class GatePods {
  /** Pods named in status.heldPods; the condition counts them all. */
  static final int NAMED = 20;

  private GatePods() {}

  public static void apply(
      ReconcileState state, GateMode defaultMode, long defaultDeadlineSeconds) {
    List<Pod> waiting = new ArrayList<>();
    String waitFor = null;
    List<Pod> pods = new ArrayList<>(state.cluster().appPods(state.namespace(), state.name()));
    pods.sort(Comparator.comparing(p -> p.getMetadata().getName()));
    for (Pod pod : pods) {
      int gate = PodRequirement.gateIndex(pod);
      if (gate < 0 || pod.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      String unmet = PodRequirement.unmet(pod, state.withStatus());
      if (unmet == null) {
        state.changes().lift(pod, gate);
        Instant created = Time.parse(pod.getMetadata().getCreationTimestamp());
        if (created != null) {
          state.measurements().podReleased(Duration.between(created, state.now()));
        }
      } else {
        waiting.add(pod);
        waitFor = waitFor == null ? unmet : waitFor;
      }
    }
    state
        .status()
        .setHeldPods(
            new ArrayList<>(
                waiting.stream().limit(NAMED).map(p -> p.getMetadata().getName()).toList()));
    state.podsHeld(waiting.size(), waitFor);
    if (!waiting.isEmpty()
        && PodRequirement.mode(state.resource(), defaultMode) == GateMode.Admission) {
      state.deadlineWarnings(deadlineWarnings(state, defaultDeadlineSeconds));
    }
  }

  private static List<String> deadlineWarnings(ReconcileState state, long defaultDeadlineSeconds) {
    long migration = JobFactory.deadlineSeconds(state.resource().getSpec(), defaultDeadlineSeconds);
    List<String> warnings = new ArrayList<>();
    for (String name : RolloutGate.gatedNames(state.resource())) {
      Deployment d = state.cluster().deployment(state.namespace(), name);
      if (d == null || d.getSpec() == null) {
        continue;
      }
      int deadline = Objects.requireNonNullElse(d.getSpec().getProgressDeadlineSeconds(), 600);
      if (deadline < migration) {
        warnings.add(
            name
                + "'s progressDeadlineSeconds ("
                + deadline
                + ") is shorter than the migration's activeDeadlineSeconds ("
                + migration
                + "): while its new pods wait it may report ProgressDeadlineExceeded");
      }
    }
    return warnings;
  }
}
