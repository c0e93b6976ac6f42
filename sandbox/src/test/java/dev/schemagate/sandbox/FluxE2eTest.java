package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.sandbox.cluster.ContainerEvents;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GitOps for real: Flux's own source-controller and kustomize-controller sync a Git repository that
 * holds a DatabaseMigration and its app, through the Kustomizations of our recipe
 * (charts/schemagate/docs/flux-kustomizations.yaml, applied as it is but for the namespace, the
 * repository's URL and the interval). Each release is one commit that bumps the migration's image
 * and target and the app's image and required revision; it reaches the cluster without a person,
 * and no process of the new app version starts before its migration finished. A release whose
 * migration fails stops there, the old version serving, until the commit that fixes it.
 */
@ExtendWith(E2e.Reporter.class)
class FluxE2eTest {
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\","
          + "\"toRevision\":\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":4000}";
  static final String BROKEN = "e2e/flux-migrations:3-broken";
  static final Path RECIPE = E2e.HOME.resolve("charts/schemagate/docs/flux-kustomizations.yaml");
  static Flux flux;
  E2e world;

  @BeforeAll
  static void flux() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(
        E2e.sandbox.cluster instanceof RealCluster, "Flux runs against the real control plane");
    for (int v = 1; v <= 3; v++) {
      E2e.sandbox.simulatedImage(migrations(v), Duration.ofSeconds(4), RESULT, 0);
      E2e.sandbox.idleImage(app(v));
    }
    // its migration fails (exit code 4, no result), as a migration with an error does
    E2e.sandbox.simulatedImage(BROKEN, Duration.ofSeconds(1), "", 4);
    flux = Flux.start(E2e.sandbox);
  }

  @AfterAll
  static void stopFlux() {
    if (flux != null) {
      flux.close();
    }
  }

  @Test
  void eachReleaseCommitMigratesThenRollsOutTheAppWithoutAPerson() throws Exception {
    world = new E2e();
    try (GitServer git =
        GitServer.start(E2e.sandbox.work.resolve("git").resolve(world.ns), Flux.NODE, "shop")) {
      String first = git.commit("orders 1", release(1));
      Instant committed = Instant.now();
      Flux.kubectl(E2e.sandbox, "apply", "-f", recipe(git.url()).toString());
      awaitRelease(1, first);
      printSince(committed, "commit %s (migration r1, orders-api:1) to orders-api serving", first);

      String second = git.commit("orders 2", release(2));
      committed = Instant.now();
      awaitRelease(2, second);
      printSince(committed, "commit %s (migration r2, orders-api:2) to orders-api serving", second);
      assertThat(pods(1)).as("no pod of the old version left").isEmpty();

      // a release whose migration fails: the app stays where it is; the fix is one more commit
      String broken = git.commit("orders 3, its migration fails", release(3, BROKEN));
      committed = Instant.now();
      awaitFailed(broken);
      printSince(
          committed,
          "commit %s (a failing migration r3, orders-api:3) to the failure shown",
          broken);
      String fix = git.commit("orders 3, the migration fixed", release(3));
      committed = Instant.now();
      awaitRelease(3, fix);
      printSince(
          committed, "fix commit %s (migration r3, orders-api:3) to orders-api serving", fix);
    } catch (Throwable failure) {
      System.out.println(flux.logs());
      throw failure;
    }
  }

  /** Prints how long it has been since {@code committed}, of what the commit brought. */
  private static void printSince(Instant committed, String what, String commit) {
    System.out.printf(
        "flux: " + what + ": %d ms%n",
        commit.substring(0, 7),
        Duration.between(committed, Instant.now()).toMillis());
  }

  /**
   * Waits for the migration of a release that fails, committed as {@code commit}, to show its
   * failure as a user sees it: the DatabaseMigration Failed and Stalled, orders-migrations not
   * Ready (its health check, which reads Stalled as failed, ends at once), orders-app waiting for
   * it; meanwhile no pod of the release's app is made and the old version keeps serving.
   */
  private void awaitFailed(String commit) throws Exception {
    String revision = "main@sha1:" + commit;
    Instant start = Instant.now();
    List<String> seen = new ArrayList<>();
    while (true) {
      Map<String, Object> migrations = ready("orders-migrations");
      Map<String, Object> app = ready("orders-app");
      String line =
          "migrations="
              + migrations.get("status")
              + "/"
              + migrations.get("reason")
              + " app="
              + app.get("status")
              + "/"
              + app.get("reason")
              + " dbm="
              + world.phase("orders");
      if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(line)) {
        seen.add(line);
      }
      assertThat(pods(3)).as("pods of %s while its migration fails", app(3)).isEmpty();
      assertThat(starts(3)).as("processes of %s while its migration fails", app(3)).isEmpty();
      if ("False".equals(migrations.get("status"))
          && "HealthCheckFailed".equals(migrations.get("reason"))
          && revision.equals(lastAttempted("orders-migrations"))
          && "Failed".equals(world.phase("orders"))) {
        break;
      }
      assertThat(Duration.between(start, Instant.now()))
          .as("the failure of release 3 shown by Flux: %s\n%s", seen, flux.logs())
          .isLessThan(Duration.ofMinutes(4));
      Thread.sleep(100);
    }
    System.out.println(
        "flux: the failing release as kubectl showed it: "
            + String.join(" -> ", seen)
            + "; orders-migrations: "
            + ready("orders-migrations").get("reason")
            + ": "
            + ready("orders-migrations").get("message"));
    assertThat(String.valueOf(ready("orders-migrations").get("message")))
        .as("what Flux says of the failure")
        .contains("DatabaseMigration/" + world.ns + "/orders");
    assertThat(ready("orders-app").get("status")).as("orders-app").isNotEqualTo("True");
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api"))
        .as("the old version keeps serving")
        .isEqualTo(app(2));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("r2");
  }

  /**
   * Waits for release v, committed as {@code commit}, to reach the app, watching it as a user would
   * (kubectl get kustomizations, dbm, pods) every 100 ms; asserts what each shows on the way.
   */
  private void awaitRelease(int v, String commit) throws Exception {
    String revision = "main@sha1:" + commit;
    Instant start = Instant.now();
    boolean heldBehindTheMigration = false;
    List<String> seen = new ArrayList<>();
    while (true) {
      Map<String, Object> migrations = ready("orders-migrations");
      Map<String, Object> app = ready("orders-app");
      boolean migrated = migratedTo(v);
      String line =
          "migrations="
              + migrations.get("status")
              + "/"
              + migrations.get("reason")
              + " app="
              + app.get("status")
              + "/"
              + app.get("reason")
              + " dbm="
              + world.phase("orders")
              + "@"
              + world.status("orders").get("currentRevision");
      if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(line)) {
        seen.add(line);
      }
      if ("True".equals(migrations.get("status"))
          && String.valueOf(migrations.get("message")).contains(revision)) {
        assertThat(migrated)
            .as(
                "orders-migrations is Ready at %s only once the DatabaseMigration is: %s",
                commit, seen)
            .isTrue();
      }
      if (!migrated && "DependencyNotReady".equals(app.get("reason"))) {
        heldBehindTheMigration = true;
      }
      if (!migrated) {
        assertThat(starts(v)).as("processes of %s before its migration ended", app(v)).isEmpty();
      }
      if ("True".equals(app.get("status"))
          && String.valueOf(app.get("message")).contains(revision)
          && app(v).equals(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api"))) {
        break;
      }
      assertThat(Duration.between(start, Instant.now()))
          .as("release %d applied by Flux: %s\n%s", v, seen, flux.logs())
          .isLessThan(Duration.ofMinutes(4));
      Thread.sleep(100);
    }
    System.out.println(
        "flux: release " + v + " as kubectl showed it: " + String.join(" -> ", seen));
    assertThat(heldBehindTheMigration)
        .as("orders-app waited for orders-migrations (DependencyNotReady): %s", seen)
        .isTrue();
    assertThat((String) ready("orders-migrations").get("message"))
        .isEqualTo("Applied revision: " + revision);
    assertThat((String) ready("orders-app").get("message"))
        .isEqualTo("Applied revision: " + revision);
    assertThat(world.phase("orders")).isEqualTo("Ready");
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("r" + v);
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")).isEqualTo(app(v));
    assertStartedOnlyAfterItsMigration(v);
  }

  private boolean migratedTo(int v) {
    return "Ready".equals(world.phase("orders"))
        && ("r" + v).equals(world.status("orders").get("currentRevision"));
  }

  /** The revision a Kustomization of the world's namespace last tried to apply, or null. */
  private String lastAttempted(String kustomization) {
    GenericKubernetesResource k =
        world
            .client()
            .genericKubernetesResources("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
            .inNamespace(world.ns)
            .withName(kustomization)
            .get();
    Object status = k == null ? null : k.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> s ? (String) s.get("lastAttemptedRevision") : null;
  }

  /** The Ready condition of a Kustomization of the world's namespace, or an empty map. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> ready(String kustomization) {
    GenericKubernetesResource k =
        world
            .client()
            .genericKubernetesResources("kustomize.toolkit.fluxcd.io/v1", "Kustomization")
            .inNamespace(world.ns)
            .withName(kustomization)
            .get();
    Object status = k == null ? null : k.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> s) || !(s.get("conditions") instanceof List<?> conditions)) {
      return Map.of();
    }
    return conditions.stream()
        .map(c -> (Map<String, Object>) c)
        .filter(c -> "Ready".equals(c.get("type")))
        .findFirst()
        .orElse(Map.of());
  }

  /** The files of release v, as a team keeps them in its repository. */
  static Map<String, String> release(int v) {
    return release(v, migrations(v));
  }

  /** The files of release v, its migrations in that image. */
  static Map<String, String> release(int v, String migrationsImage) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put(
        "deploy/orders/migrations/databasemigration.yaml",
        String.join(
            "\n",
            "apiVersion: schemagate.dev/v1alpha1",
            "kind: DatabaseMigration",
            "metadata: {name: orders}",
            "spec:",
            "  image: " + migrationsImage,
            "  targetRevision: r" + v,
            "  gate: {deployments: [orders-api]}",
            ""));
    files.put(
        "deploy/orders/app/deployment.yaml",
        String.join(
            "\n",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata: {name: orders-api}",
            "spec:",
            "  replicas: 2",
            "  selector: {matchLabels: {app: orders-api}}",
            "  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}",
            "  template:",
            "    metadata:",
            "      labels: {app: orders-api, schemagate.dev/migration: orders}",
            "      annotations: {schemagate.dev/requires-revision: r" + v + "}",
            "    spec:",
            "      containers:",
            "      - {name: api, image: \"" + app(v) + "\"}",
            ""));
    return files;
  }

  static String migrations(int v) {
    return "e2e/flux-migrations:" + v;
  }

  static String app(int v) {
    return "shop/orders-api:" + v;
  }

  /** The recipe, for this world: its namespace, the repository's URL, a 5 s interval. */
  private Path recipe(String url) throws Exception {
    String recipe = Files.readString(RECIPE);
    Map<String, String> replaced = new LinkedHashMap<>();
    replaced.put("namespace: flux-system", "namespace: " + world.ns);
    replaced.put("targetNamespace: shop", "targetNamespace: " + world.ns);
    replaced.put("url: https://git.example.com/shop.git", "url: " + url);
    replaced.put("interval: 1m ", "interval: 5s ");
    for (var r : replaced.entrySet()) {
      assertThat(recipe).as("the recipe still says it").contains(r.getKey());
      recipe = recipe.replace(r.getKey(), r.getValue());
    }
    Path file = Files.createTempFile(E2e.sandbox.work, "flux", ".yaml");
    Files.writeString(file, recipe);
    return file;
  }

  private List<Pod> pods(int v) {
    return world.livePods("orders-api", app(v));
  }

  private List<ContainerEvents.Start> starts(int v) {
    return E2e.sandbox.real().starts().stream()
        .filter(s -> s.namespace().equals(world.ns) && s.image().equals(app(v)))
        .toList();
  }

  /** Every process of release v started after its migration's container exited successfully. */
  private void assertStartedOnlyAfterItsMigration(int v) {
    Instant migrated = world.migrationEnded("orders", "r" + v).at();
    await().atMost(Duration.ofSeconds(10)).until(() -> starts(v).size() >= 2);
    assertThat(starts(v))
        .allSatisfy(
            s ->
                assertThat(s.at())
                    .as(s.pod() + " started after the migration's container ended")
                    .isAfter(migrated));
  }
}
