package dev.schemagate.operator.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The fingerprint of a managed schema as a Job reported it (the Job contract's {@code schema}
 * object): 16 hex digits over every table, and each table's digest (8 hex digits) unless the result
 * had no room for them.
 *
 * @param tables schema.table to digest, in name order; empty when omitted
 * @param tablesOmitted whether the Job left the per-table digests out
 */
public record SchemaFingerprint(
    String fingerprint, Map<String, String> tables, boolean tablesOmitted) {
  /** At most this many tables are read from a result (a 4096-byte result holds fewer). */
  static final int MAX_TABLES = 1000;

  public SchemaFingerprint {
    tables = Collections.unmodifiableMap(new TreeMap<>(tables));
  }

  /**
   * The {@code schema} object of a result, when it holds a fingerprint of the right shape; the
   * tables whose name or digest have not the contract's shape are left out, and then so are all
   * (tablesOmitted): a partial list would name the wrong tables.
   */
  static Optional<SchemaFingerprint> of(JsonNode schema) {
    if (schema == null || !schema.isObject()) {
      return Optional.empty();
    }
    JsonNode fp = schema.get("fingerprint");
    if (fp == null || !fp.isTextual() || !fp.asText().matches("[0-9a-f]{16}")) {
      return Optional.empty();
    }
    Map<String, String> tables = new TreeMap<>();
    boolean omitted = schema.path("tablesOmitted").asBoolean(false);
    JsonNode list = schema.get("tables");
    if (list == null || !list.isObject()) {
      omitted = omitted || list != null;
    } else {
      var fields = list.fields();
      while (fields.hasNext()) {
        var table = fields.next();
        String name = table.getKey();
        String digest = table.getValue().asText("");
        if (tables.size() >= MAX_TABLES
            || name.length() > 130
            || name.isBlank()
            || !digest.matches("[0-9a-f]{8}")) {
          omitted = true;
          break;
        }
        tables.put(name, digest);
      }
    }
    if (omitted) {
      tables.clear();
    }
    return Optional.of(new SchemaFingerprint(fp.asText(), tables, omitted));
  }
}
