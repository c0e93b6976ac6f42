package dev.schemagate.operator.gate;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Decides how to hold and release gated Deployments with {@code spec.paused} and the {@link HeldBy}
 * annotation, which lists every DatabaseMigration that holds it. A Deployment is resumed only when
 * the last holder lets go, and never when it was paused by someone else. A hold that someone else
 * undoes while it is due (the Deployment resumed, the annotation removed) is restored at once and
 * told ({@link Override}). Pure: it reads the Deployments through a lookup and returns the patches
 * to make.
 */
public final class RolloutGate {
  /** What holding does and then holds. */
  public record Held(
      List<String> held,
      List<String> newlyHeld,
      List<String> released,
      List<String> pausedByOthers,
      List<Override> overridden,
      List<PausePatch> patches) {}

  /**
   * A hold someone else undid while it was due, and that holding restores: the Deployment was
   * resumed ({@code spec.paused: false} by a person, or by Argo CD or Flux healing it to the
   * manifest), or its held-by annotation lost this holder. (Who did it cannot be told: a false
   * {@code spec.paused} is not stored, so no field manager owns it.)
   */
  public record Override(String name, boolean resumed, boolean annotationRemoved) {}

  /** What releasing lets go of. */
  public record Released(List<String> names, List<PausePatch> patches) {}

  private RolloutGate() {}

  /** The Deployments spec.gate names, as written (not all of them may be valid names). */
  public static List<String> gatedNames(DatabaseMigration dbm) {
    return dbm.getSpec().getGate() == null || dbm.getSpec().getGate().getDeployments() == null
        ? List.of()
        : dbm.getSpec().getGate().getDeployments();
  }

  /**
   * Holds every named Deployment that exists; lets go of those held before that are no longer
   * named.
   *
   * @param me the name of the DatabaseMigration that holds them
   */
  public static Held hold(
      String me,
      List<String> names,
      List<String> previouslyHeld,
      Function<String, Deployment> lookup) {
    List<String> held = new ArrayList<>();
    List<String> newlyHeld = new ArrayList<>();
    List<String> pausedByOthers = new ArrayList<>();
    List<Override> overridden = new ArrayList<>();
    List<PausePatch> patches = new ArrayList<>();
    for (String name : names) {
      Deployment d = lookup.apply(name);
      if (d == null) {
        continue;
      }
      Set<String> holders = HeldBy.holders(d);
      boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
      boolean heldBefore = previouslyHeld.contains(name);
      if (holders.contains(me)) {
        if (!paused) {
          patches.add(PausePatch.of(d, true, holders));
          overridden.add(new Override(name, true, false));
        }
        held.add(name);
      } else if (paused && holders.isEmpty() && !heldBefore) {
        pausedByOthers.add(name);
      } else {
        holders.add(me);
        patches.add(PausePatch.of(d, true, holders));
        held.add(name);
        if (heldBefore) {
          overridden.add(new Override(name, !paused, true));
        } else {
          newlyHeld.add(name);
        }
      }
    }
    List<String> released = new ArrayList<>();
    for (String name : previouslyHeld) {
      if (!names.contains(name)) {
        letGo(me, lookup.apply(name))
            .ifPresent(
                patch -> {
                  patches.add(patch);
                  released.add(name);
                });
      }
    }
    return new Held(held, newlyHeld, released, pausedByOthers, overridden, patches);
  }

  /** Lets go of every Deployment {@code me} holds among the names given. */
  public static Released release(
      String me, Collection<String> names, Function<String, Deployment> lookup) {
    List<String> released = new ArrayList<>();
    List<PausePatch> patches = new ArrayList<>();
    for (String name : names) {
      letGo(me, lookup.apply(name))
          .ifPresent(
              patch -> {
                patches.add(patch);
                released.add(name);
              });
    }
    return new Released(released, patches);
  }

  private static Optional<PausePatch> letGo(String me, Deployment d) {
    if (d == null) {
      return Optional.empty();
    }
    Set<String> holders = HeldBy.holders(d);
    if (!holders.remove(me)) {
      return Optional.empty();
    }
    return Optional.of(PausePatch.of(d, !holders.isEmpty(), holders));
  }
}
