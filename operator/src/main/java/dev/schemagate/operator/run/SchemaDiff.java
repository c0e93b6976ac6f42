package dev.schemagate.operator.run;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a live schema differs from the recorded one, table by table: the tables added, removed and
 * changed (columns, constraints or indexes). Pure.
 *
 * @param named whether the tables could be named (both sides reported their per-table digests)
 */
public record SchemaDiff(
    boolean drifted,
    List<String> added,
    List<String> removed,
    List<String> changed,
    boolean named) {
  /** At most this many tables are named in each list. */
  public static final int MAX_NAMED = 20;

  /**
   * Compares a live schema with the recorded one.
   *
   * @param recordedFingerprint the fingerprint the last successful run recorded
   * @param recordedTables its per-table digests, or null/empty when they were omitted
   * @param recordedTablesOmitted whether they were
   * @param live the live schema, as the check reported it
   */
  public static SchemaDiff between(
      String recordedFingerprint,
      Map<String, String> recordedTables,
      boolean recordedTablesOmitted,
      SchemaFingerprint live) {
    if (Objects.equals(recordedFingerprint, live.fingerprint())) {
      return new SchemaDiff(false, List.of(), List.of(), List.of(), true);
    }
    Map<String, String> recorded = recordedTables == null ? Map.of() : recordedTables;
    if (recordedTablesOmitted || live.tablesOmitted()) {
      return new SchemaDiff(true, List.of(), List.of(), List.of(), false);
    }
    List<String> added = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    live.tables()
        .forEach(
            (table, digest) -> {
              String before = recorded.get(table);
              if (before == null) {
                added.add(table);
              } else if (!before.equals(digest)) {
                changed.add(table);
              }
            });
    recorded.keySet().stream()
        .sorted()
        .filter(table -> !live.tables().containsKey(table))
        .forEach(removed::add);
    return new SchemaDiff(true, added, removed, changed, true);
  }

  /**
   * The differences in one line, such as "changed public.orders; added public.audit". A drift in no
   * table (the fingerprints differ, the digests do not) is told as such.
   */
  public String summary() {
    if (!drifted) {
      return "no difference";
    }
    if (!named) {
      return "the fingerprints differ (the per-table digests were not reported: too many tables"
          + " for a Job's result, so the tables are not named)";
    }
    List<String> parts = new ArrayList<>();
    part(parts, "changed", changed);
    part(parts, "added", added);
    part(parts, "removed", removed);
    if (parts.isEmpty()) {
      return "the fingerprints differ, but no table's digest does (tables were reordered or"
          + " renamed across schemas)";
    }
    return String.join("; ", parts);
  }

  /** The first {@link #MAX_NAMED} of a list. */
  public static List<String> firstNamed(List<String> tables) {
    return tables.size() <= MAX_NAMED ? tables : List.copyOf(tables.subList(0, MAX_NAMED));
  }

  private static void part(List<String> parts, String word, List<String> tables) {
    if (tables.isEmpty()) {
      return;
    }
    String named = String.join(", ", firstNamed(tables));
    parts.add(
        word
            + " "
            + named
            + (tables.size() > MAX_NAMED ? " and " + (tables.size() - MAX_NAMED) + " more" : ""));
  }
}
