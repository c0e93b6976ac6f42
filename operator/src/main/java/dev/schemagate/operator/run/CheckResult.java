package dev.schemagate.operator.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * What a drift check Job reported (the Job contract's direction check): the live schema's
 * fingerprint, or why it read none ({@code skipped}: a migration held the run lock).
 *
 * @param schema the live schema, or null
 * @param skipped the reason the check read nothing (MigrationRunning), or null
 * @param revision the revision the database is at, as the check saw it, or null
 */
public record CheckResult(SchemaFingerprint schema, String skipped, String revision) {
  /** The result in a termination message; empty when it holds no JSON object. */
  public static Optional<CheckResult> read(String terminationMessage) {
    Optional<JsonNode> json = ResultParser.jsonObject(terminationMessage);
    if (json.isEmpty()) {
      return Optional.empty();
    }
    JsonNode root = json.get();
    String skipped = root.hasNonNull("skipped") ? root.get("skipped").asText() : null;
    String revision = root.hasNonNull("toRevision") ? root.get("toRevision").asText() : null;
    return Optional.of(
        new CheckResult(
            SchemaFingerprint.of(root.get("schema")).orElse(null),
            skipped == null || !skipped.matches("[A-Za-z]{1,64}") ? null : skipped,
            revision));
  }
}
