package dev.schemagate.operator.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.AppliedMigration;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.PlannedMigration;
import dev.schemagate.redact.Redactor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads the result a Job left in its termination message: the JSON object of the Job contract, or
 * the plain text of {@code alembic current}, or (FallbackToLogsOnError) the tail of its log.
 */
public final class ResultParser {
  static final int MAX_MESSAGE = 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private ResultParser() {}

  public static RunResult parse(String terminationMessage) {
    if (terminationMessage == null || terminationMessage.isBlank()) {
      return RunResult.EMPTY;
    }
    String text = terminationMessage.strip();
    Optional<JsonNode> json = jsonObject(text);
    if (json.isPresent()) {
      return fromJson(json.get());
    }
    // not JSON, or a truncated or foreign object: read as text
    String revision = alembicRevision(text);
    if (revision != null) {
      return new RunResult(null, revision, List.of(), 0, null, null);
    }
    return new RunResult(null, null, List.of(), 0, null, shorten(Redactor.redact(lastLines(text))));
  }

  /** The JSON object a termination message holds; empty when it holds none (or a cut-off one). */
  static Optional<JsonNode> jsonObject(String terminationMessage) {
    if (terminationMessage == null || !terminationMessage.strip().startsWith("{")) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readTree(terminationMessage.strip()));
    } catch (Exception notJson) {
      return Optional.empty();
    }
  }

  private static RunResult fromJson(JsonNode node) {
    List<AppliedMigration> applied = new ArrayList<>();
    for (JsonNode m : node.path("applied")) {
      AppliedMigration one =
          new AppliedMigration(
              text(m, "revision"),
              shorten(Redactor.redact(text(m, "description"))),
              m.hasNonNull("durationMs") ? m.get("durationMs").asLong() : null);
      one.setKind(MigrationKind.of(text(m, "kind")));
      applied.add(one);
    }
    List<PlannedMigration> held = new ArrayList<>();
    for (JsonNode m : node.path("held")) {
      String revision = text(m, "revision");
      if (revision == null || revision.isBlank()) {
        continue;
      }
      PlannedMigration one = new PlannedMigration();
      one.setRevision(revision);
      one.setDescription(shorten(Redactor.redact(text(m, "description"))));
      one.setKind(
          Objects.requireNonNullElse(MigrationKind.of(text(m, "kind")), MigrationKind.CONTRACT));
      held.add(one);
    }
    String message = text(node, "message");
    return new RunResult(
        text(node, "fromRevision"),
        text(node, "toRevision"),
        applied,
        node.path("omitted").asInt(0),
        text(node, "failedRevision"),
        message == null ? null : shorten(Redactor.redact(message)),
        SchemaFingerprint.of(node.get("schema")).orElse(null),
        held,
        text(node, "baseline"));
  }

  /**
   * {@code alembic current} prints one line per head, such as {@code 3f2a9c1b7d10 (head)}; log
   * lines (INFO ...) may come first. Returns the revision, or null when the text is not that.
   */
  static String alembicRevision(String text) {
    String[] lines = text.split("\\R");
    for (int i = lines.length - 1; i >= 0; i--) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("INFO") || line.startsWith("WARN")) {
        continue;
      }
      String[] words = line.split("\\s+");
      boolean shape =
          words[0].matches("[A-Za-z0-9_]{1,64}")
              && (words.length == 1
                  || (words.length == 2
                      && words[1].matches(
                          "\\((head|heads|mergepoint|branchpoint|effective head)\\)")));
      return shape ? words[0] : null;
    }
    return null;
  }

  private static String lastLines(String text) {
    String[] lines = text.split("\\R");
    int from = Math.max(0, lines.length - 5);
    return String.join("\n", Arrays.asList(lines).subList(from, lines.length)).strip();
  }

  public static String shorten(String text) {
    if (text == null || text.length() <= MAX_MESSAGE) {
      return text;
    }
    return text.substring(0, MAX_MESSAGE - 3) + "...";
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }
}
