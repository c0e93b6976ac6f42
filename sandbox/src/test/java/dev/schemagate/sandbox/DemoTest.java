package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The README's main command, {@code scripts/run --once}: the demo on the embedded sandbox, as a
 * user sees it. No pod of the app starts before the database is at the revision its template needs
 * (read from the database itself when the pod is seen running), and the narration tells it in the
 * order it happened: the app's new pods held, the migration Ready, then the rollout it released;
 * each step's lines before the next step begins.
 */
class DemoTest {
  /** The revision each of the demo's app images needs (the migration's target of its step). */
  static final Map<String, Integer> NEEDS = Map.of("shop/orders-api:1", 2, "shop/orders-api:2", 4);

  record Start(String pod, String image, int databaseAt) {}

  @Test
  void noPodStartsBeforeItsMigrationAndTheNarrationIsInCausalOrder() throws Exception {
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream out =
        new PrintStream(new Tee(printed, System.out), true, StandardCharsets.UTF_8.name());
    List<Start> starts = Collections.synchronizedList(new ArrayList<>());
    Path work = Path.of("target/demo-test").toAbsolutePath();
    int exit =
        Demo.run(
            E2e.HOME,
            work,
            System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"),
            Sandbox.Kind.EMBEDDED,
            true,
            out,
            (sandbox, database) -> {
              Set<String> seen = ConcurrentHashMap.newKeySet();
              var pods =
                  sandbox
                      .client()
                      .pods()
                      .inNamespace(Demo.NS)
                      .withLabel("app", "orders-api")
                      .inform(
                          Handlers.onChange(
                              (Pod pod) -> {
                                if (running(pod) && seen.add(pod.getMetadata().getUid())) {
                                  starts.add(
                                      new Start(
                                          pod.getMetadata().getName(),
                                          pod.getSpec().getContainers().get(0).getImage(),
                                          databaseAt(sandbox, database)));
                                }
                              }));
              return pods::close;
            });
    String text = printed.toString(StandardCharsets.UTF_8);
    assertThat(exit).as(text).isZero();
    assertThat(text).contains("Done: every step passed.");

    List<String> lines = text.lines().toList();
    List<List<String>> steps = steps(lines);
    assertThat(steps).as(text).hasSize(3);
    // step 1: the app and its migration applied; its pods wait, the migration, then the rollout
    inOrder(
        text,
        steps.get(0),
        "orders-api   held by orders: ",
        "orders       Ready at revision 2",
        "orders-api   rolled out shop/orders-api:1");
    // step 2: the new migration; the new app's pods wait while the old ones serve
    inOrder(
        text,
        steps.get(1),
        "orders       migrating: ",
        "orders-api   held by orders: ",
        "orders       Ready at revision 4",
        "orders-api   rolled out shop/orders-api:2");
    // step 3: the rollback waits for the downgrade
    inOrder(
        text,
        steps.get(2),
        "orders       migrating: ",
        "orders-api   held by orders: ",
        "orders       Ready at revision 2: undid",
        "orders-api   rolled out shop/orders-api:1");

    // every pod started on the revision its template needs, and there were pods to check
    assertThat(starts)
        .as("the app's pods as they started, with the database's revision then")
        .allSatisfy(
            s ->
                assertThat(s.databaseAt())
                    .as(
                        "%s (%s) started with the database at %d",
                        s.pod(), s.image(), s.databaseAt())
                    .isEqualTo(NEEDS.get(s.image())));
    assertThat(starts.stream().filter(s -> s.image().equals("shop/orders-api:1")))
        .as("pods of shop/orders-api:1 started (step 1 and the rollback): %s", starts)
        .hasSizeGreaterThanOrEqualTo(4);
    assertThat(starts.stream().filter(s -> s.image().equals("shop/orders-api:2")))
        .as("pods of shop/orders-api:2 started: %s", starts)
        .hasSizeGreaterThanOrEqualTo(2);
  }

  /**
   * The narrated lines of each step, from its header up to the next one; the last step's up to the
   * database's history the demo prints when it is done. A line after that is a step's line told
   * late.
   */
  static List<List<String>> steps(List<String> lines) {
    List<List<String>> steps = new ArrayList<>();
    List<String> current = null;
    boolean done = false;
    for (String line : lines) {
      if (line.matches("^\\S+  step \\d+ .*")) {
        current = new ArrayList<>();
        steps.add(current);
      } else if (line.startsWith("The database's own history")) {
        done = true;
        current = null;
      } else if (done && line.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  .*")) {
        throw new AssertionError("a line told after the demo was done: " + line);
      } else if (current != null && line.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  .*")) {
        current.add(line.substring("00:00:00.000  ".length()));
      }
    }
    return steps;
  }

  /**
   * Each of the expected beginnings is told in the step, in this order, and the last one is the
   * step's last line: nothing the step released is told before what released it.
   */
  static void inOrder(String text, List<String> step, String... expected) {
    int at = -1;
    for (String e : expected) {
      int found = -1;
      for (int i = at + 1; i < step.size(); i++) {
        if (step.get(i).startsWith(e)) {
          found = i;
          break;
        }
      }
      assertThat(found)
          .as("after line %d of the step, \"%s...\" in:\n%s", at, e, text)
          .isNotNegative();
      at = found;
    }
    assertThat(step.get(step.size() - 1))
        .as("the step ends with its rollout:\n%s", text)
        .startsWith(expected[expected.length - 1]);
    String rolledOut = expected[expected.length - 1];
    String ready = expected[expected.length - 2];
    int firstRollout = -1;
    int firstReady = -1;
    for (int i = 0; i < step.size(); i++) {
      if (firstRollout < 0 && step.get(i).startsWith(rolledOut)) {
        firstRollout = i;
      }
      if (firstReady < 0 && step.get(i).startsWith(ready)) {
        firstReady = i;
      }
    }
    assertThat(firstRollout)
        .as("the rollout is told only after the migration's Ready:\n%s", text)
        .isGreaterThan(firstReady);
  }

  static boolean running(Pod pod) {
    return pod.getStatus() != null
        && "Running".equals(pod.getStatus().getPhase())
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The revision the database is at, from its Flyway history; 0 before any. */
  static int databaseAt(Sandbox sandbox, String database) {
    try (var c = sandbox.database.connect(database);
        var rs =
            c.createStatement()
                .executeQuery(
                    "SELECT coalesce(max(version::int), 0) FROM flyway_schema_history"
                        + " WHERE success AND version IS NOT NULL")) {
      rs.next();
      return rs.getInt(1);
    } catch (SQLException noHistoryYet) {
      return 0;
    }
  }

  /** Writes to both. */
  static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public synchronized void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public synchronized void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }
  }
}
