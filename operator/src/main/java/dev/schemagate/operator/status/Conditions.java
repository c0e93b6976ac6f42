package dev.schemagate.operator.status;

import dev.schemagate.api.Reason;
import dev.schemagate.operator.base.Time;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Kubernetes-convention conditions, set for one generation at one instant: every condition carries
 * the generation it describes, and its lastTransitionTime changes only when its status flips.
 */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";
  public static final String ROLLOUT_HELD = "RolloutHeld";
  public static final String DRIFTED = "Drifted";

  /** The order conditions are listed in. */
  static final List<String> TYPES = List.of(READY, RECONCILING, STALLED, ROLLOUT_HELD, DRIFTED);

  private final long generation;
  private final Instant now;

  /** Conditions set for {@code generation} by a reconcile at {@code now}. */
  public Conditions(long generation, Instant now) {
    this.generation = generation;
    this.now = now;
  }

  /** The generation the conditions describe. */
  public long generation() {
    return generation;
  }

  /** Returns the conditions with one of them set to True or False. */
  public List<Condition> set(
      List<Condition> conditions, String type, boolean value, Reason reason, String message) {
    return set(conditions, type, value ? "True" : "False", reason, message);
  }

  /** Returns the conditions with one of them set to True, False or Unknown. */
  public List<Condition> set(
      List<Condition> conditions, String type, String value, Reason reason, String message) {
    Optional<Condition> previous = find(conditions, type);
    String transition =
        previous
            .filter(c -> value.equals(c.getStatus()))
            .map(Condition::getLastTransitionTime)
            .orElse(Time.format(now));
    Condition updated =
        new ConditionBuilder()
            .withType(type)
            .withStatus(value)
            .withReason(reason.name())
            .withMessage(message == null ? "" : message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(transition)
            .build();
    List<Condition> result = new ArrayList<>();
    for (String t : TYPES) {
      if (t.equals(type)) {
        result.add(updated);
      } else {
        find(conditions, t).ifPresent(result::add);
      }
    }
    conditions.stream().filter(c -> !TYPES.contains(c.getType())).forEach(result::add);
    return result;
  }

  /** Returns the conditions without one of them. */
  public static List<Condition> remove(List<Condition> conditions, String type) {
    return conditions == null
        ? new ArrayList<>()
        : new ArrayList<>(conditions.stream().filter(c -> !type.equals(c.getType())).toList());
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> Objects.equals(type, c.getType())).findFirst();
  }

  /** The condition of this type when it is True. */
  public static Optional<Condition> isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).filter(c -> "True".equals(c.getStatus()));
  }
}
