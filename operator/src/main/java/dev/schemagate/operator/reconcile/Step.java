package dev.schemagate.operator.reconcile;

/**
 * One step of the reconcile ({@link Pipeline}): it reads the state the steps before it left, and
 * the caches through it, and adds what it finds and decides. A step depends on the state and on the
 * packages below this one, never on another step.
 */
@FunctionalInterface
public interface Step {
  void apply(ReconcileState state);
}
