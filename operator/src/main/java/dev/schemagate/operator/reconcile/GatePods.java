package dev.schemagate.operator.reconcile;

import dev.schemagate.api.GateLift;
import dev.schemagate.api.GateMode;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.gate.RolloutGate;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.status.EventReason;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Step: lift the scheduling gate from every pod that names this DatabaseMigration and whose
 * revision is now in place (or already was, by the revisions applied); count those that still wait,
 * and why. In Admission mode, warn of a gated Deployment whose progress deadline ends before the
 * migration's may: it would report ProgressDeadlineExceeded while its pods wait. A pod that waited
 * and lost its gate to someone else, what it needs still not in place, is told.
 */
public final class GatePods implements Step {
  /** Pods named in status.heldPods; the condition counts them all. */
  static final int NAMED = 20;

  private final GateMode defaultMode;
  private final long defaultDeadlineSeconds;

  /**
   * @param defaultMode the mode of a DatabaseMigration that sets no spec.gate.mode
   * @param defaultDeadlineSeconds the deadline of a migration Job whose spec.job sets none
   */
  public GatePods(GateMode defaultMode, long defaultDeadlineSeconds) {
    this.defaultMode = defaultMode;
    this.defaultDeadlineSeconds = defaultDeadlineSeconds;
  }

  @Override
  public void apply(ReconcileState state) {
    List<Pod> waiting = new ArrayList<>();
    String waitFor = null;
    boolean contracted = false;
    List<Pod> pods = new ArrayList<>(state.cluster().appPods(state.namespace(), state.name()));
    pods.sort(Comparator.comparing(p -> p.getMetadata().getName()));
    Set<String> heldBefore = new HashSet<>(state.before().getHeldPods());
    for (Pod pod : pods) {
      int gate = PodRequirement.gateIndex(pod);
      if (pod.getMetadata().getDeletionTimestamp() != null) {
        continue;
      }
      if (gate < 0) {
        liftedByOthers(pod, heldBefore, state);
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
        boolean onContracted = isContracted(pod, state);
        if (waitFor == null || (onContracted && !contracted)) {
          // a rollback onto a contracted schema is what a person must hear of first
          waitFor = unmet;
          contracted = onContracted;
        }
      }
    }
    state
        .status()
        .setHeldPods(
            new ArrayList<>(
                waiting.stream().limit(NAMED).map(p -> p.getMetadata().getName()).toList()));
    state.podsHeld(waiting.size(), waitFor, contracted);
    if (!waiting.isEmpty()
        && PodRequirement.mode(state.resource(), defaultMode) == GateMode.Admission) {
      state.deadlineWarnings(deadlineWarnings(state));
    }
  }

  /**
   * A pod the last status named as waiting at the gate (status.heldPods) that has no gate now,
   * while what it needs is still not in place: the operator did not lift it (it lifts a gate only
   * once what the pod needs is in place, and a pod it lifts is named no more), so someone else did.
   * Told as a Warning Event naming the pod, and kept in status.gateLiftedByOthers. Seen once: the
   * status written after it no longer names the pod as waiting.
   */
  private static void liftedByOthers(Pod pod, Set<String> heldBefore, ReconcileState state) {
    String name = pod.getMetadata().getName();
    if (!heldBefore.contains(name)) {
      return;
    }
    String unmet = PodRequirement.unmet(pod, state.withStatus());
    if (unmet == null) {
      return; // what it needs is in place: the lift the operator was about to make
    }
    state.status().setGateLiftedByOthers(new GateLift(name, Time.format(state.now()), unmet));
    state
        .events()
        .tell(
            EventReason.GateLiftedByOthers,
            "the scheduling gate "
                + PodRequirement.GATE
                + " of pod "
                + name
                + " was removed by someone other than the operator while the migration was not"
                + " Ready: "
                + unmet
                + "; the pod runs on a schema it was held back from (the chart's"
                + " gate.liftAllowedGroups names who may remove it)");
  }

  /** Whether the pod waits because a contract migration removed what the revision it needs had. */
  private static boolean isContracted(Pod pod, ReconcileState state) {
    String required = PodRequirement.required(pod);
    return required != null
        && PodRequirement.contractedBy(
                required, state.resource().getSpec().getTool(), state.status())
            .isPresent();
  }

  private List<String> deadlineWarnings(ReconcileState state) {
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
