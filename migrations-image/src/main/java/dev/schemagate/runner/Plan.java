package dev.schemagate.runner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.internal.info.MigrationInfoImpl;

/**
 * The plan of an upgrade (the Job contract's direction {@code plan}): the pending migrations, their
 * SQL (redacted, size-capped) and a hash over them and the database's state (current version and
 * the checksums of what is applied), computed under the run lock; changes nothing. Optionally a
 * rehearsal: the pending migrations run in one transaction that is rolled back.
 */
final class Plan {
  /** The most SQL the plan prints to its log (the result file holds what fits of it). */
  static final int MAX_SQL_LOG = 512 * 1024;

  /** Hex digits of the plan hash. */
  static final int HASH_LENGTH = 16;

  record Step(
      String revision,
      String description,
      Integer checksum,
      boolean transactional,
      Path file,
      String kind) {}

  record LockWait(String revision, String holder) {}

  record Rehearsal(
      String outcome,
      long durationMs,
      String failedRevision,
      String message,
      List<String> rehearsed,
      List<String> notRehearsed,
      List<LockWait> lockWaits) {}

  final String current;
  final String target;
  final List<Step> steps;
  final String hash;
  String sql = "";
  Rehearsal rehearsal;

  private Plan(String current, String target, List<Step> steps, String hash) {
    this.current = current;
    this.target = target;
    this.steps = steps;
    this.hash = hash;
  }

  /** The plan of a migrate to the configured target; the caller holds the run lock. */
  static Plan of(Migrations migrations, String target, String inputs) {
    migrations.checkTarget(target);
    // a database to adopt: planned from its baseline, as the run will record it
    String baseline =
        migrations.adoption() == Migrations.Adoption.NONE ? null : migrations.baseline();
    String current = baseline != null ? baseline : migrations.currentVersion();
    List<Step> steps = new ArrayList<>();
    for (MigrationInfo m : migrations.pending()) {
      if (m.getVersion() == null || (baseline != null && !m.getVersion().isNewerThan(baseline))) {
        continue;
      }
      boolean transactional =
          !(m instanceof MigrationInfoImpl impl)
              || impl.getResolvedMigration() == null
              || impl.getResolvedMigration().getExecutor() == null
              || impl.getResolvedMigration().getExecutor().canExecuteInTransaction();
      Path file = m.getPhysicalLocation() == null ? null : Path.of(m.getPhysicalLocation());
      steps.add(
          new Step(
              m.getVersion().getVersion(),
              m.getDescription(),
              m.getChecksum(),
              transactional,
              file,
              Kinds.of(m)));
    }
    List<String> lines = new ArrayList<>();
    lines.add("schemagate-plan 1");
    lines.add("inputs " + (inputs == null ? "" : inputs));
    lines.add("target " + target);
    lines.add("current " + current);
    if (baseline != null) {
      lines.add("baseline " + baseline);
    }
    for (MigrationInfo m : migrations.applied()) {
      lines.add(
          "applied "
              + (m.getVersion() == null ? "R" : m.getVersion().getVersion())
              + " "
              + m.getChecksum()
              + " "
              + m.getState().isFailed()
              + " "
              + m.getDescription());
    }
    for (Step s : steps) {
      lines.add("pending " + s.revision() + " " + s.checksum() + " " + s.description());
    }
    return new Plan(current, target, steps, hash(String.join("\n", lines)));
  }

  static String hash(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, HASH_LENGTH);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The revision the plan reaches: its last pending migration, or the current one. */
  String reaches() {
    return steps.isEmpty() ? current : steps.get(steps.size() - 1).revision();
  }

  /** The SQL of the pending migrations, redacted, at most MAX_SQL_LOG characters. */
  void readSql() {
    StringBuilder out = new StringBuilder();
    for (Step s : steps) {
      out.append("-- ")
          .append(s.revision())
          .append(' ')
          .append(s.description())
          .append(s.transactional() ? "" : " (outside a transaction)")
          .append('\n')
          .append(script(s))
          .append('\n');
    }
    String masked = Secrets.mask(out.toString());
    sql =
        masked.length() <= MAX_SQL_LOG
            ? masked
            : masked.substring(0, MAX_SQL_LOG) + "\n-- (cut at " + MAX_SQL_LOG + " characters)\n";
  }

  private static String script(Step s) {
    if (s.file() == null || !Files.isRegularFile(s.file())) {
      return "-- (no SQL file: a Java or classpath migration)";
    }
    try {
      return Files.readString(s.file(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new RunnerException(
          ExitCode.CONFIGURATION, "cannot read " + s.file() + ": " + e.getMessage());
    }
  }

  /**
   * Runs the pending migrations in one transaction and rolls it back. A migration that cannot run
   * in a transaction ends the rehearsal: it and the ones after it are not rehearsed. Nothing
   * remains: the transaction also holds no history row (the SQL runs without Flyway's bookkeeping).
   */
  void rehearse(DatabaseSettings db, RunnerSettings settings, LockWatch watch) {
    List<String> rehearsed = new ArrayList<>();
    List<String> notRehearsed = new ArrayList<>();
    List<LockWait> waits = new ArrayList<>();
    long start = System.nanoTime();
    String outcome = "Succeeded";
    String failed = null;
    String message = null;
    try (Connection c = Connections.open(db, settings)) {
      c.setAutoCommit(false);
      int pid;
      try (Statement s = c.createStatement();
          var rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
      }
      try (Statement s = c.createStatement()) {
        s.execute("SET LOCAL search_path TO " + quote(settings.schema()));
        if (settings.lockTimeoutMs() > 0) {
          s.execute("SET LOCAL lock_timeout = " + settings.lockTimeoutMs());
        }
        if (settings.statementTimeoutMs() > 0) {
          s.execute("SET LOCAL statement_timeout = " + settings.statementTimeoutMs());
        }
      }
      boolean stopped = false;
      for (Step step : steps) {
        String name = step.revision() + " " + step.description();
        if (stopped || !step.transactional() || step.file() == null) {
          stopped = true;
          notRehearsed.add(name);
          continue;
        }
        watch.watch(pid, "rehearsal of " + name);
        try (Statement s = c.createStatement()) {
          s.execute(script(step));
          rehearsed.add(name);
        } catch (SQLException e) {
          outcome = "Failed";
          failed = step.revision();
          message = name + " failed: " + e.getMessage().strip();
          stopped = true;
        } finally {
          watch.pause();
          for (LockWatch.Holder h : watch.holders()) {
            waits.add(new LockWait(step.revision(), h.describe()));
          }
        }
      }
      c.rollback();
    } catch (SQLException e) {
      outcome = "Failed";
      message = "the rehearsal could not run: " + e.getMessage();
    }
    long ms = (System.nanoTime() - start) / 1_000_000;
    Console.info(
        "rehearsal "
            + outcome.toLowerCase()
            + " in "
            + ms
            + " ms, rolled back: rehearsed "
            + rehearsed.size()
            + ", not rehearsed "
            + notRehearsed.size()
            + (message == null ? "" : ": " + Secrets.mask(message)));
    rehearsal = new Rehearsal(outcome, ms, failed, message, rehearsed, notRehearsed, waits);
  }

  private static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  /** The plan's part of the result. */
  Map<String, Object> toMap(String sqlPart, boolean sqlCut) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("hash", hash);
    List<Object> pending = new ArrayList<>();
    for (Step s : steps) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("revision", s.revision());
      m.put("description", Secrets.mask(s.description()));
      m.put("checksum", s.checksum());
      if (!s.transactional()) {
        m.put("transactional", false);
      }
      m.put("kind", s.kind());
      pending.add(m);
    }
    out.put("pending", pending);
    if (rehearsal != null) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("outcome", rehearsal.outcome());
      r.put("durationMs", rehearsal.durationMs());
      r.put("failedRevision", rehearsal.failedRevision());
      r.put(
          "message",
          rehearsal.message() == null ? null : cut(Secrets.mask(rehearsal.message()), 600));
      r.put("notRehearsed", rehearsal.notRehearsed());
      List<Object> waits = new ArrayList<>();
      for (LockWait w : rehearsal.lockWaits()) {
        waits.add(Map.of("revision", w.revision(), "holder", cut(Secrets.mask(w.holder()), 300)));
      }
      r.put("lockWaits", waits);
      out.put("rehearsal", r);
    }
    out.put("sqlBytes", sql.getBytes(StandardCharsets.UTF_8).length);
    out.put("sqlTruncated", sqlCut);
    out.put("sql", sqlPart);
    return out;
  }

  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  /**
   * The result: everything but the SQL always; as much of the SQL as keeps the result within the
   * termination message's 4096 bytes (its log has all of it).
   */
  String resultJson(long durationMs) {
    String json = resultJson(durationMs, "", !sql.isEmpty());
    int room = Report.MAX_BYTES - json.getBytes(StandardCharsets.UTF_8).length;
    if (Json.write(sql).getBytes(StandardCharsets.UTF_8).length - 2 <= room) {
      return resultJson(durationMs, sql, false);
    }
    String part = sql;
    while (!part.isEmpty()) {
      part = part.substring(0, Math.max(0, Math.min(part.length() - 1, part.length() * 9 / 10)));
      String candidate = resultJson(durationMs, part, true);
      if (candidate.getBytes(StandardCharsets.UTF_8).length <= Report.MAX_BYTES) {
        return candidate;
      }
    }
    return json;
  }

  private String resultJson(long durationMs, String sqlPart, boolean cut) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("tool", "flyway");
    out.put("direction", "plan");
    out.put("fromRevision", current);
    out.put("toRevision", reaches());
    out.put("applied", List.of());
    out.put("plan", toMap(sqlPart, cut));
    out.put("durationMs", durationMs);
    return Json.write(out);
  }
}
