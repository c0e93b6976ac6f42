package dev.schemagate.operator.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.PlanRehearsal;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.api.PlannedMigration;
import dev.schemagate.redact.Redactor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads the plan a plan Job reported (the Job contract's direction plan): the result JSON's {@code
 * plan} object. Every text is redacted again, the SQL included.
 */
public final class PlanResult {
  /** The most SQL the ConfigMap holds (the result holds at most 4096 bytes anyway). */
  static final int MAX_SQL = 512 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The plan read from a termination message, and its SQL. */
  public record Read(PlanStatus plan, String sql) {}

  private PlanResult() {}

  /**
   * The plan in the message, written onto a copy of {@code base} (its id, Job and inputs); empty
   * when the message holds no plan (an image that does not know the direction plan).
   */
  public static Optional<Read> read(String terminationMessage, PlanStatus base) {
    Optional<JsonNode> json = ResultParser.jsonObject(terminationMessage);
    if (json.isEmpty()) {
      return Optional.empty();
    }
    JsonNode root = json.get();
    JsonNode node = root.path("plan");
    String hash = text(node, "hash");
    if (hash == null || !hash.matches("[0-9a-f]{16}")) {
      return Optional.empty();
    }
    PlanStatus plan = JSON.convertValue(JSON.valueToTree(base), PlanStatus.class);
    plan.setHash(hash);
    plan.setFromRevision(text(root, "fromRevision"));
    plan.setToRevision(text(root, "toRevision"));
    List<PlannedMigration> pending = new ArrayList<>();
    for (JsonNode m : node.path("pending")) {
      PlannedMigration p = new PlannedMigration();
      p.setRevision(text(m, "revision"));
      p.setDescription(ResultParser.shorten(Redactor.redact(text(m, "description"))));
      p.setChecksum(m.hasNonNull("checksum") ? m.get("checksum").asLong() : null);
      p.setTransactional(m.has("transactional") ? m.get("transactional").asBoolean() : null);
      p.setKind(MigrationKind.of(text(m, "kind")));
      pending.add(p);
    }
    plan.setPending(pending);
    JsonNode r = node.path("rehearsal");
    if (r.isObject()) {
      PlanRehearsal rehearsal = new PlanRehearsal();
      rehearsal.setOutcome(text(r, "outcome"));
      rehearsal.setDurationMs(r.hasNonNull("durationMs") ? r.get("durationMs").asLong() : null);
      rehearsal.setFailedRevision(text(r, "failedRevision"));
      String message = text(r, "message");
      rehearsal.setMessage(message == null ? null : ResultParser.shorten(Redactor.redact(message)));
      List<String> notRehearsed = new ArrayList<>();
      r.path("notRehearsed").forEach(n -> notRehearsed.add(n.asText()));
      rehearsal.setNotRehearsed(notRehearsed.isEmpty() ? null : notRehearsed);
      List<String> waits = new ArrayList<>();
      r.path("lockWaits")
          .forEach(
              w ->
                  waits.add(
                      text(w, "revision") + ": waited for " + Redactor.redact(text(w, "holder"))));
      rehearsal.setLockWaits(waits.isEmpty() ? null : waits);
      plan.setRehearsal(rehearsal);
    }
    plan.setSqlBytes(node.hasNonNull("sqlBytes") ? node.get("sqlBytes").asLong() : null);
    plan.setSqlTruncated(node.path("sqlTruncated").asBoolean(false));
    String sql = Redactor.redact(Optional.ofNullable(text(node, "sql")).orElse(""));
    if (sql.length() > MAX_SQL) {
      sql = sql.substring(0, MAX_SQL);
      plan.setSqlTruncated(true);
    }
    plan.setSummary(summary(plan));
    return Optional.of(new Read(plan, sql));
  }

  /** The plan in one line: "2 -> 4: 3 add display name, 4 display name required". */
  static String summary(PlanStatus plan) {
    StringBuilder s =
        new StringBuilder(blank(plan.getFromRevision()))
            .append(" -> ")
            .append(blank(plan.getToRevision()))
            .append(": ");
    if (plan.getPending().isEmpty()) {
      s.append("nothing to apply");
    }
    for (int i = 0; i < plan.getPending().size(); i++) {
      PlannedMigration m = plan.getPending().get(i);
      if (i > 0) {
        s.append(", ");
      }
      if (s.length() > 300) {
        s.append("and ").append(plan.getPending().size() - i).append(" more");
        break;
      }
      s.append(m.getRevision()).append(' ').append(m.getDescription());
      if (m.getKind() == MigrationKind.CONTRACT) {
        s.append(" (contract: after the rollout)");
      }
      if (Boolean.FALSE.equals(m.getTransactional())) {
        s.append(" (outside a transaction)");
      }
    }
    if (plan.getRehearsal() != null) {
      PlanRehearsal r = plan.getRehearsal();
      s.append("; rehearsal ")
          .append(r.getOutcome() == null ? "unknown" : r.getOutcome().toLowerCase())
          .append(r.getDurationMs() == null ? "" : " in " + r.getDurationMs() + " ms");
      if (r.getFailedRevision() != null) {
        s.append(" at ").append(r.getFailedRevision());
      }
      if (r.getNotRehearsed() != null) {
        s.append(", not rehearsed: ").append(String.join(", ", r.getNotRehearsed()));
      }
    }
    return s.toString();
  }

  private static String blank(String revision) {
    return revision == null || revision.isEmpty() ? "empty" : revision;
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }
}
