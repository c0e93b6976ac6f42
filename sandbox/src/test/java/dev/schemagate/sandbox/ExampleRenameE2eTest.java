package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The example's rename of app_user.name to username (revisions 0004 to 0006 of
 * examples/fastapi-alembic), shipped in one release from 1.3 to 1.6 on the real cluster with the
 * real PostgreSQL and the example's images: the operator runs the expand part (0004, 0005), the app
 * of 1.6 rolls out over the pods of 1.3, and only then the contract part (0006). Meanwhile a client
 * of each app version issues that version's queries: the one of 1.3 from before the release until
 * its last pod is gone, the one of 1.6 from the expand part on until after the contract; neither
 * sees an error.
 */
@ExtendWith(E2e.Reporter.class)
class ExampleRenameE2eTest {
  static final String MIGRATIONS_13 = "registry.example.com/shop/orders-migrations:rename-1.3";
  static final String MIGRATIONS_16 = "registry.example.com/shop/orders-migrations:rename-1.6";
  static final String APP_13 = "registry.example.com/shop/orders-api:rename-1.3";
  static final String APP_16 = "registry.example.com/shop/orders-api:rename-1.6";
  static final Duration RELEASE = Duration.ofSeconds(300);
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    Sandbox sandbox = E2e.sandbox();
    Path r13 = AlembicE2eTest.copy(sandbox.work.resolve("images/rename-1.3"), "0003");
    Path r16 = AlembicE2eTest.copy(sandbox.work.resolve("images/rename-1.6"), "0006");
    if (E2e.KIND == Sandbox.Kind.REAL) {
      AlembicE2eTest.appImage(APP_13, r13);
      AlembicE2eTest.appImage(APP_16, r16);
    } else {
      sandbox.idleImage(APP_13);
      sandbox.idleImage(APP_16);
    }
    sandbox.pythonImage(MIGRATIONS_13, r13, AlembicE2eTest.shim(r13));
    sandbox.pythonImage(MIGRATIONS_16, r16, AlembicE2eTest.shim(r16));
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void bothAppVersionsServeWithoutAnErrorThroughExpandRolloutAndContract() throws Exception {
    boolean real = E2e.KIND == Sandbox.Kind.REAL;
    world.secret("orders-db", E2e.sandbox.database.url("postgresql+asyncpg", world.database));
    if (real) {
      world.app("orders-api", APP_13, "orders-db", 8000);
    } else {
      world.deployment("orders-api", APP_13);
    }
    Map<String, Object> spec = spec(MIGRATIONS_13, "head", "orders-db", "orders-api");
    spec.put("tool", "alembic");
    world.migration("orders", spec);
    eventually()
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && "0003".equals(world.status("orders").get("currentRevision")));
    eventually().until(() -> ready(APP_13) == 2);

    List<Long> ids = Collections.synchronizedList(new ArrayList<>());
    try (DbmWatch watch = new DbmWatch(world, "orders");
        AppVersionLoad old =
            new AppVersionLoad("1.3", "name", world.on.database.connect(world.database), ids)) {
      eventually().until(() -> old.last() != null);
      Instant releaseStarted = Instant.now();

      // the release, as the example's README ships it: the migration image of 1.6, then the
      // app's template of 1.6 (held until the expand part is in place)
      world.editSpec("orders", s -> s.put("image", MIGRATIONS_16));
      eventually().until(() -> world.paused("orders-api"));
      world.editDeployment(
          "orders-api",
          d -> d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(APP_16));

      // the app of 1.6 runs from the expand part on: its client from then
      await("the expand part (0005)", () -> "0005".equals(current()));
      try (AppVersionLoad now =
          new AppVersionLoad("1.6", "username", world.on.database.connect(world.database), ids)) {
        eventually().until(() -> now.last() != null);

        // the app of 1.3 serves until its last pod is gone; the contract Job comes after that
        await("the contract part's Job", () -> contractJob() != null);
        Instant contractSeen = Instant.now();
        old.close();
        await(
            "the contract part (0006)",
            () -> "Ready".equals(world.phase("orders")) && "0006".equals(current()));
        Thread.sleep(3000); // the app of 1.6 serves on after the contract
        now.close();
        watch.close();

        String report = report(watch, old, now, releaseStarted, contractSeen);
        System.out.println(report);
        Files.writeString(E2e.sandbox.work.resolve("example-rename-" + world.ns + ".txt"), report);
        theRelease(watch, old, now, contractSeen, report);
      }
    }

    // the contract removed what 1.3 reads: its query fails now
    assertThatThrownBy(() -> world.rows("SELECT app_user.name FROM app_user"))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("column app_user.name does not exist");
    // every row either version wrote has its username, and the app of 1.6 serves them all
    assertThat(world.rows("SELECT count(*)::text FROM app_user WHERE username IS NULL"))
        .containsExactly("0");
    assertThat(world.rows("SELECT count(*)::text FROM app_user WHERE username LIKE '1.3-%'"))
        .singleElement()
        .satisfies(n -> assertThat(Integer.parseInt(n)).isPositive());
    if (real) {
      HttpResponse<String> users =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .build()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://" + world.servingPod("orders-api") + ":8000/users"))
                      .timeout(Duration.ofSeconds(30))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(users.statusCode()).isEqualTo(200);
      assertThat(users.body()).contains("\"name\":\"1.3-1\"", "\"name\":\"1.6-1\"");
    }
  }

  /**
   * What the release must show: the phases in order, zero errors for both clients, and the contract
   * Job made only once the rollout was complete.
   */
  private void theRelease(
      DbmWatch watch, AppVersionLoad old, AppVersionLoad now, Instant contractSeen, String report)
      throws Exception {
    assertThat(watch.phases())
        .as(report)
        .containsSubsequence("Ready", "Migrating", "RollingOut", "Contracting", "Ready")
        .endsWith("Ready");
    assertThat(watch.seen())
        .as("the expand part stops at 0005, the contract part reaches 0006")
        .anySatisfy(
            s -> {
              assertThat(s.phase()).isEqualTo("RollingOut");
              assertThat(s.currentRevision()).isEqualTo("0005");
            });

    // zero errors for both versions, each having run while the other did
    assertThat(old.errors()).as(report).isZero();
    assertThat(now.errors()).as(report).isZero();
    assertThat(old.requests()).isPositive();
    assertThat(now.requests()).isPositive();
    assertThat(now.first()).as("the versions overlap").isBefore(old.last());

    // the contract Job was made only once the rollout was complete: after the last pod of 1.6
    // was Ready, after the status recorded the rollout complete, after the expand part ended
    List<Pod> pods =
        world
            .client()
            .pods()
            .inNamespace(world.ns)
            .withLabel("app", "orders-api")
            .list()
            .getItems()
            .stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    assertThat(pods)
        .hasSize(2)
        .allSatisfy(
            p -> assertThat(p.getSpec().getContainers().get(0).getImage()).isEqualTo(APP_16));
    Instant lastReady =
        pods.stream()
            .flatMap(p -> p.getStatus().getConditions().stream())
            .filter(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))
            .map(PodCondition::getLastTransitionTime)
            .map(Instant::parse)
            .max(Instant::compareTo)
            .orElseThrow();
    Job contractJob = contractJob();
    Instant contractCreated = Instant.parse(contractJob.getMetadata().getCreationTimestamp());
    @SuppressWarnings("unchecked")
    Map<String, Object> contract = (Map<String, Object>) world.status("orders").get("contract");
    Instant rolloutComplete = Instant.parse((String) contract.get("rolloutCompletedAt"));
    Map<String, Object> expand = world.history("orders").get(1);
    assertThat(expand.get("part")).isEqualTo("expand");
    assertThat(expand.get("toRevision")).isEqualTo("0005");
    Instant expanded = Instant.parse((String) expand.get("finishedAt"));
    String times =
        String.format(
            "expand part ended %s, last pod of 1.6 Ready %s, rollout complete %s, contract Job"
                + " created %s, last query of 1.3 %s",
            expanded, lastReady, rolloutComplete, contractCreated, old.last());
    System.out.println("-- " + times);
    assertThat(contractCreated).as(times).isAfterOrEqualTo(lastReady);
    assertThat(contractCreated).as(times).isAfterOrEqualTo(expanded);
    assertThat(rolloutComplete).as(times).isAfterOrEqualTo(lastReady);
    assertThat(contractCreated)
        .as(times)
        .isAfterOrEqualTo(rolloutComplete.truncatedTo(ChronoUnit.SECONDS));
    // the client of 1.3 ran until the contract Job appeared, after the rollout was complete
    assertThat(contractSeen).as(times).isAfter(rolloutComplete);
    assertThat(old.last()).as(times).isAfter(contractSeen.minusSeconds(1));
    assertThat(contract.get("phase")).isEqualTo("Completed");
    assertThat(world.status("orders").get("contractRevisions")).isEqualTo(List.of("0006"));
    assertThat(world.eventReasons()).contains("RolloutComplete");
  }

  private String current() {
    return String.valueOf(world.status("orders").get("currentRevision"));
  }

  private long ready(String image) {
    return world.livePods("orders-api", image).stream()
        .filter(
            p ->
                p.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())))
        .count();
  }

  private Job contractJob() {
    return world.jobs().stream()
        .filter(j -> "contract".equals(j.getMetadata().getAnnotations().get("schemagate.dev/part")))
        .findFirst()
        .orElse(null);
  }

  private void await(String what, java.util.concurrent.Callable<Boolean> condition) {
    eventually().atMost(RELEASE).alias(what).until(condition);
  }

  /** The release as a person saw it, for the closing note of the change that ships it. */
  private String report(
      DbmWatch watch,
      AppVersionLoad old,
      AppVersionLoad now,
      Instant releaseStarted,
      Instant contractSeen)
      throws Exception {
    StringBuilder out =
        new StringBuilder("\n==== the example's rename, released from 1.3 to 1.6\n");
    out.append("-- release started ").append(releaseStarted).append('\n');
    out.append("-- $ kubectl get dbm orders -w\n");
    watch.kubectlLines().forEach(l -> out.append(l).append('\n'));
    out.append("-- phases, from the status every 100 ms:\n");
    watch.seen().forEach(s -> out.append("  ").append(s).append('\n'));
    out.append("-- events of DatabaseMigration orders:\n");
    world.events().stream()
        .filter(e -> "DatabaseMigration".equals(e.getInvolvedObject().getKind()))
        .sorted(Comparator.comparing(ExampleRenameE2eTest::when))
        .forEach(
            e ->
                out.append("  ")
                    .append(when(e))
                    .append(' ')
                    .append(e.getType())
                    .append(' ')
                    .append(e.getReason())
                    .append(
                        e.getCount() != null && e.getCount() > 1 ? " (x" + e.getCount() + ")" : "")
                    .append(": ")
                    .append(e.getMessage())
                    .append('\n'));
    out.append("-- contract Job seen ").append(contractSeen).append('\n');
    out.append("-- clients:\n  ").append(old.summary()).append("\n  ").append(now.summary());
    return out.toString();
  }

  private static String when(Event e) {
    if (e.getLastTimestamp() != null) {
      return e.getLastTimestamp();
    }
    if (e.getEventTime() != null && e.getEventTime().getTime() != null) {
      return e.getEventTime().getTime();
    }
    return String.valueOf(e.getMetadata().getCreationTimestamp());
  }
}
