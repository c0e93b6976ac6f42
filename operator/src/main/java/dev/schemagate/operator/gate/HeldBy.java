package dev.schemagate.operator.gate;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The annotation on a gated Deployment that lists, comma-separated, every DatabaseMigration that
 * holds it paused.
 */
public final class HeldBy {
  public static final String KEY = DatabaseMigration.GROUP + "/held-by";

  private HeldBy() {}

  /** The names of the DatabaseMigrations that hold the Deployment, in the annotation's order. */
  public static Set<String> holders(Deployment deployment) {
    Map<String, String> annotations = deployment.getMetadata().getAnnotations();
    String value = annotations == null ? null : annotations.get(KEY);
    Set<String> holders = new LinkedHashSet<>();
    if (value != null && !value.isBlank()) {
      Arrays.stream(value.split(","))
          .map(String::strip)
          .filter(s -> !s.isEmpty())
          .forEach(holders::add);
    }
    return holders;
  }

  static String value(Set<String> holders) {
    return String.join(",", holders);
  }
}
