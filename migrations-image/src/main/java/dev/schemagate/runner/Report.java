package dev.schemagate.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a run, written to SCHEMAGATE_RESULT_FILE as one JSON object of at most 4096 bytes
 * (the size of a Kubernetes termination message): when it does not fit, the schema's per-table
 * digests are left out first ({@code tablesOmitted}), then the tail of the applied list ({@code
 * omitted} says how many).
 */
final class Report {
  static final int MAX_BYTES = 4096;
  static final int MAX_DESCRIPTION = 120;
  static final int MAX_MESSAGE = 1500;

  record Applied(
      String revision, String description, long durationMs, int lockRetries, String kind) {
    Applied(String revision, String description, long durationMs) {
      this(revision, description, durationMs, 0, null);
    }
  }

  final String direction;
  String fromRevision;
  String toRevision;
  final List<Applied> applied = new ArrayList<>();
  long durationMs;
  String error;
  String failedRevision;
  int failedLockRetries;
  String message;
  SchemaFingerprint schema;
  String skipped;

  /**
   * The migrations an upgrade with SCHEMAGATE_CONTRACT=hold left pending, from the first contract
   * migration to the target: the operator runs them once the app has rolled out.
   */
  final List<Kinds.Held> held = new ArrayList<>();

  /** The baseline recorded before the run (a database adopted with SCHEMAGATE_BASELINE). */
  String baseline;

  Report(String direction) {
    this.direction = direction;
  }

  String toJson() {
    String whole = toJson(applied.size(), true, true);
    if (fits(whole)) {
      return whole;
    }
    for (int keep = applied.size();
        ;
        keep = keep == 0 ? 0 : Math.max(0, Math.min(keep - 1, keep * 3 / 4))) {
      String json = toJson(keep, false, true);
      if (fits(json)) {
        return json;
      }
      if (keep == 0) {
        // the held migrations' revisions and kinds are what the operator needs of them
        return toJson(0, false, false);
      }
    }
  }

  private static boolean fits(String json) {
    return json.getBytes(StandardCharsets.UTF_8).length <= MAX_BYTES;
  }

  private String toJson(int keep, boolean withTables, boolean heldDescriptions) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("tool", "flyway");
    out.put("direction", direction);
    out.put("fromRevision", fromRevision == null ? "" : fromRevision);
    out.put("toRevision", toRevision == null ? "" : toRevision);
    List<Object> list = new ArrayList<>();
    for (Applied a : applied.subList(0, keep)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("revision", a.revision());
      m.put("description", cut(Secrets.mask(a.description()), MAX_DESCRIPTION));
      m.put("durationMs", a.durationMs());
      if (a.lockRetries() > 0) {
        m.put("lockRetries", a.lockRetries());
      }
      if (a.kind() != null) {
        m.put("kind", a.kind());
      }
      list.add(m);
    }
    out.put("applied", list);
    if (keep < applied.size()) {
      out.put("omitted", applied.size() - keep);
    }
    if (!held.isEmpty()) {
      List<Object> heldList = new ArrayList<>();
      for (Kinds.Held h : held) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("revision", h.revision());
        if (heldDescriptions) {
          m.put("description", cut(Secrets.mask(h.description()), MAX_DESCRIPTION));
        }
        m.put("kind", h.kind());
        heldList.add(m);
      }
      out.put("held", heldList);
    }
    out.put("baseline", baseline);
    out.put("schema", schema == null ? null : schema.toMap(withTables));
    out.put("skipped", skipped);
    out.put("durationMs", durationMs);
    out.put("error", error);
    out.put("failedRevision", failedRevision);
    out.put("lockRetries", failedLockRetries > 0 ? failedLockRetries : null);
    out.put("message", message == null ? null : cut(Secrets.mask(message), MAX_MESSAGE));
    return Json.write(out);
  }

  /** Writes the result; a missing directory (a run outside Kubernetes) is only logged. */
  void write(Path file) {
    try {
      Files.writeString(file, toJson(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      Console.warn("could not write the result to " + file + ": " + e.getMessage());
    }
  }

  private static String cut(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
