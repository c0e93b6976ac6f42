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
 * migration fails stops there, the old version serving, until the commit that fixes it. With
 * approval: Manual, the approval is one more commit, which Flux applies as soon as it comes (the
 * recipe reads a plan awaiting approval as failed, so no health check holds it back); so is the
 * commit that acknowledges a drift that blocks a release. Each scenario also records the live
 * DatabaseMigration in each phase it reaches (LiveStates) and runs Argo CD's own code on those
 * objects: the health of the argocd-cm entry and gitops-engine's sync (ArgoCdReading).
 */
@ExtendWith(E2e.Reporter.class)
class FluxE2eTest {
  static final String RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\","
          + "\"toRevision\":\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":4000}";
  static final String BROKEN = "e2e/flux-migrations:3-broken";
  static final Path RECIPE = E2e.HOME.resolve("charts/schemagate/docs/flux-kustomizations.yaml");
  static Flux flux;
  static String planned;
  static String planned3;
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
    // the schemagate runner with the example's first two migrations, for the approval flow
    Map<String, String> two = new LinkedHashMap<>(E2e.exampleMigrations());
    two.keySet().removeIf(k -> !k.matches("V[12]__.*"));
    planned = E2e.runnerImage("e2e/flux-plan:2", two);
    Map<String, String> three = new LinkedHashMap<>(E2e.exampleMigrations());
    three.keySet().removeIf(k -> !k.matches("V[123]__.*"));
    planned3 = E2e.runnerImage("e2e/flux-plan:3", three);
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
    try (LiveStates states = LiveStates.record(world, "orders");
        GitServer git =
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
      assertThat(pods(app(1))).as("no pod of the old version left").isEmpty();

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
      argoCdReadsEach(states, "Migrating", "Ready", "Failed");
    } catch (Throwable failure) {
      System.out.println(flux.logs());
      throw failure;
    }
  }

  /**
   * approval: Manual through Flux: the release commit makes a plan, which orders-migrations shows
   * at once (its health check reads a plan awaiting approval as failed, and ends), the app's
   * Kustomization waiting; the approval is a commit of spec.approvedPlan, which Flux applies as
   * soon as it comes, and the approved plan runs before the app's pods start.
   */
  @Test
  void anApprovalIsACommitThatFluxAppliesAsSoonAsItComes() throws Exception {
    world = new E2e().createDatabase();
    world.secret("orders-db", world.url());
    try (LiveStates states = LiveStates.record(world, "orders");
        GitServer git =
            GitServer.start(E2e.sandbox.work.resolve("git").resolve(world.ns), Flux.NODE, "shop")) {
      String release = git.commit("orders 2, approval: Manual", approvalRelease(null));
      Instant committed = Instant.now();
      Flux.kubectl(E2e.sandbox, "apply", "-f", recipe(git.url()).toString());
      String hash = awaitApprovalShown(release);
      printSince(committed, "commit %s (approval: Manual) to the plan awaiting approval", release);

      String approval = git.commit("orders 2, plan " + hash + " approved", approvalRelease(hash));
      committed = Instant.now();
      awaitRelease("2", app(1), approval);
      printSince(committed, "approval commit %s to orders-api serving", approval);
      assertThat(world.status("orders").get("currentRevision")).isEqualTo("2");
      assertThat(world.jobs("upgrade")).as("one run: the approved plan's").hasSize(1);
      @SuppressWarnings("unchecked")
      Map<String, Object> plan = (Map<String, Object>) world.status("orders").get("plan");
      assertThat(plan.get("hash")).as("the plan that ran").isEqualTo(hash);
      argoCdReadsEach(states, "AwaitingApproval", "Migrating", "Ready");
    } catch (Throwable failure) {
      System.out.println(flux.logs());
      throw failure;
    }
  }

  /**
   * spec.drift with onDrift: Block through Flux: after a release, someone alters a table by hand;
   * the next release commit waits (DriftBlocked), which orders-migrations shows at once; the
   * acknowledging commit (spec.drift.acknowledged: the live fingerprint) is applied as soon as it
   * comes, and the release runs and reaches the app.
   */
  @Test
  void aDriftThatBlocksAReleaseIsAcknowledgedByACommitThatFluxAppliesAsSoonAsItComes()
      throws Exception {
    world = new E2e().createDatabase();
    world.secret("orders-db", world.url());
    try (LiveStates states = LiveStates.record(world, "orders");
        GitServer git =
            GitServer.start(E2e.sandbox.work.resolve("git").resolve(world.ns), Flux.NODE, "shop")) {
      String first = git.commit("orders 2", driftRelease(planned, "2", app(1), null));
      Flux.kubectl(E2e.sandbox, "apply", "-f", recipe(git.url()).toString());
      awaitRelease("2", app(1), first);
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> "NoDrift".equals(world.condition("orders", "Drifted").get("reason")));

      world.execute("ALTER TABLE app_user ADD COLUMN nickname text");
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> "True".equals(world.condition("orders", "Drifted").get("status")));
      @SuppressWarnings("unchecked")
      Map<String, Object> drift = (Map<String, Object>) world.status("orders").get("drift");
      @SuppressWarnings("unchecked")
      String live = (String) ((Map<String, Object>) drift.get("live")).get("fingerprint");
      assertThat(live).matches("[0-9a-f]{16}");

      String blocked = git.commit("orders 3", driftRelease(planned3, "3", app(2), null));
      Instant committed = Instant.now();
      awaitBlocked(blocked, live);
      printSince(committed, "commit %s (a release behind a drift) to the block shown", blocked);

      String acknowledged =
          git.commit(
              "orders 3, the drift " + live + " acknowledged",
              driftRelease(planned3, "3", app(2), live));
      committed = Instant.now();
      awaitRelease("3", app(2), acknowledged);
      printSince(committed, "acknowledging commit %s to orders-api serving", acknowledged);
      assertThat(world.jobs("upgrade"))
          .as("two runs, the second after the acknowledgement")
          .hasSize(2);
      argoCdReadsEach(states, "DriftBlocked", "Migrating", "Ready");
    } catch (Throwable failure) {
      System.out.println(flux.logs());
      throw failure;
    }
  }

  /**
   * Argo CD's own code (its Lua runtime, gitops-engine's sync) on the live DatabaseMigration in
   * each state the scenario went through, which must include {@code states}: the health and the
   * sync docs/gitops.md's Argo CD table says.
   */
  private static void argoCdReadsEach(LiveStates live, String... states) throws Exception {
    assertThat(live.states()).containsKeys(states);
    ArgoCdReading.assertReadsAsDocumented(live.states());
  }

  /**
   * Waits for a release committed as {@code commit} to wait for a drift, as a user sees it: the
   * DatabaseMigration DriftBlocked with the fingerprint to acknowledge in its message,
   * orders-migrations not Ready (HealthCheckFailed, at that commit), the old app serving and no pod
   * of the new one made.
   */
  private void awaitBlocked(String commit, String live) throws Exception {
    awaitStopped(commit, "DriftBlocked", app(2), "the release behind a drift");
    assertThat((String) world.condition("orders", "Ready").get("message"))
        .contains("set spec.drift.acknowledged: " + live);
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api"))
        .as("the old version keeps serving")
        .isEqualTo(app(1));
  }

  /** The files of a release with drift checks that block, and the acknowledged fingerprint. */
  Map<String, String> driftRelease(String image, String target, String app, String acknowledged) {
    return release(
        migration(
            image,
            target,
            "  database: {secretRef: {name: orders-db}}",
            "  drift:",
            "    interval: 5s",
            "    onDrift: Block",
            acknowledged == null ? "" : "    acknowledged: \"" + acknowledged + "\""),
        deployment(target, app));
  }

  /**
   * Waits for the plan of a release committed as {@code commit} to await approval, as a user sees
   * it: the DatabaseMigration AwaitingApproval with a plan hash, orders-migrations not Ready
   * (HealthCheckFailed, at that commit), orders-app waiting for it and no pod of the app made.
   * Returns the hash to approve.
   */
  private String awaitApprovalShown(String commit) throws Exception {
    awaitStopped(commit, "AwaitingApproval", app(1), "the release awaiting approval");
    assertThat(world.condition("orders", "Ready"))
        .containsEntry("status", "False")
        .containsEntry("reason", "ApprovalPending");
    @SuppressWarnings("unchecked")
    Map<String, Object> plan = (Map<String, Object>) world.status("orders").get("plan");
    String hash = (String) plan.get("awaitingApproval");
    assertThat(hash).matches("[0-9a-f]{16}");
    return hash;
  }

  /** The files of the approval release: approval: Manual, and the approved hash once given. */
  Map<String, String> approvalRelease(String approvedPlan) {
    return release(
        migration(
            planned,
            "2",
            "  database: {secretRef: {name: orders-db}}",
            "  approval: Manual",
            approvedPlan == null ? "" : "  approvedPlan: \"" + approvedPlan + "\""),
        deployment("2", app(1)));
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
    awaitStopped(commit, "Failed", app(3), "the failing release");
    assertThat(String.valueOf(ready("orders-migrations").get("message")))
        .as("what Flux says of the failure")
        .contains("DatabaseMigration/" + world.ns + "/orders");
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api"))
        .as("the old version keeps serving")
        .isEqualTo(app(2));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("r2");
  }

  /**
   * Waits for a release committed as {@code commit} to stop at its migration, watching it as a user
   * would (kubectl get kustomizations, dbm, pods) every 100 ms: orders-migrations not Ready
   * (HealthCheckFailed: its health check read the DatabaseMigration as failed and ended) at that
   * commit, the DatabaseMigration in {@code phase}, orders-app not Ready; meanwhile no pod of
   * {@code image}, the release's app, is made or started.
   */
  private void awaitStopped(String commit, String phase, String image, String what)
      throws Exception {
    String revision = "main@sha1:" + commit;
    Instant start = Instant.now();
    List<String> seen = new ArrayList<>();
    while (true) {
      String line = view();
      if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(line)) {
        seen.add(line);
      }
      assertThat(pods(image)).as("pods of %s: %s", image, what).isEmpty();
      assertThat(starts(image)).as("processes of %s: %s", image, what).isEmpty();
      Map<String, Object> migrations = ready("orders-migrations");
      if ("False".equals(migrations.get("status"))
          && "HealthCheckFailed".equals(migrations.get("reason"))
          && revision.equals(lastAttempted("orders-migrations"))
          && phase.equals(world.phase("orders"))) {
        break;
      }
      assertThat(Duration.between(start, Instant.now()))
          .as("%s shown by Flux: %s\n%s", what, seen, flux.logs())
          .isLessThan(Duration.ofMinutes(4));
      Thread.sleep(100);
    }
    System.out.println(
        "flux: "
            + what
            + " as kubectl showed it: "
            + String.join(" -> ", seen)
            + "; orders-migrations: "
            + ready("orders-migrations").get("message"));
    assertThat(ready("orders-app").get("status")).as("orders-app").isNotEqualTo("True");
  }

  /**
   * What kubectl shows of a release in one line: the Kustomizations' Ready status and reason, the
   * DatabaseMigration's phase and revision.
   */
  private String view() {
    Map<String, Object> migrations = ready("orders-migrations");
    Map<String, Object> app = ready("orders-app");
    return "migrations="
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
  }

  /**
   * Waits for release v, committed as {@code commit}, to reach the app, watching it as a user would
   * (kubectl get kustomizations, dbm, pods) every 100 ms; asserts what each shows on the way.
   */
  private void awaitRelease(int v, String commit) throws Exception {
    awaitRelease("r" + v, app(v), commit);
  }

  /**
   * Waits for a release that migrates to {@code target} and runs {@code image}, committed as {@code
   * commit}, to reach the app, as {@link #awaitRelease(int, String)} does.
   */
  private void awaitRelease(String target, String image, String commit) throws Exception {
    String revision = "main@sha1:" + commit;
    Instant start = Instant.now();
    boolean heldBehindTheMigration = false;
    List<String> seen = new ArrayList<>();
    while (true) {
      Map<String, Object> migrations = ready("orders-migrations");
      Map<String, Object> app = ready("orders-app");
      boolean migrated = migratedTo(target);
      String line = view();
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
        assertThat(starts(image)).as("processes of %s before its migration ended", image).isEmpty();
      }
      if ("True".equals(app.get("status"))
          && String.valueOf(app.get("message")).contains(revision)
          && image.equals(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api"))) {
        break;
      }
      assertThat(Duration.between(start, Instant.now()))
          .as("release %s applied by Flux: %s\n%s", target, seen, flux.logs())
          .isLessThan(Duration.ofMinutes(4));
      Thread.sleep(100);
    }
    System.out.println(
        "flux: release " + target + " as kubectl showed it: " + String.join(" -> ", seen));
    assertThat(heldBehindTheMigration)
        .as("orders-app waited for orders-migrations (DependencyNotReady): %s", seen)
        .isTrue();
    assertThat((String) ready("orders-migrations").get("message"))
        .isEqualTo("Applied revision: " + revision);
    assertThat((String) ready("orders-app").get("message"))
        .isEqualTo("Applied revision: " + revision);
    assertThat(world.phase("orders")).isEqualTo("Ready");
    assertThat(world.status("orders").get("currentRevision")).isEqualTo(target);
    assertThat(E2e.sandbox.cluster.rolledOutImage(world.ns, "orders-api")).isEqualTo(image);
    assertStartedOnlyAfterItsMigration(target, image);
  }

  private boolean migratedTo(String target) {
    return "Ready".equals(world.phase("orders"))
        && target.equals(world.status("orders").get("currentRevision"));
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
    return release(migration(migrationsImage, "r" + v), deployment("r" + v, app(v)));
  }

  /** A release's files, as a team keeps them in its repository: its migration and its app. */
  static Map<String, String> release(String migration, String deployment) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put("deploy/orders/migrations/databasemigration.yaml", migration);
    files.put("deploy/orders/app/deployment.yaml", deployment);
    return files;
  }

  /** The DatabaseMigration orders, gating orders-api, these lines added to its spec. */
  static String migration(String image, String target, String... spec) {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "apiVersion: schemagate.dev/v1alpha1",
                "kind: DatabaseMigration",
                "metadata: {name: orders}",
                "spec:",
                "  image: " + image,
                "  targetRevision: \"" + target + "\"",
                "  gate: {deployments: [orders-api]}"));
    lines.addAll(List.of(spec));
    lines.add("");
    return String.join("\n", lines);
  }

  /** The app's Deployment, gated at admission, requiring that revision. */
  static String deployment(String requires, String image) {
    return String.join(
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
        "      annotations: {schemagate.dev/requires-revision: \"" + requires + "\"}",
        "    spec:",
        "      containers:",
        "      - {name: api, image: \"" + image + "\"}",
        "");
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

  private List<Pod> pods(String image) {
    return world.livePods("orders-api", image);
  }

  private List<ContainerEvents.Start> starts(String image) {
    return E2e.sandbox.real().starts().stream()
        .filter(s -> s.namespace().equals(world.ns) && s.image().equals(image))
        .toList();
  }

  /** Every process of the release started after its migration's container exited successfully. */
  private void assertStartedOnlyAfterItsMigration(String target, String image) {
    Instant migrated = world.migrationEnded("orders", target).at();
    await().atMost(Duration.ofSeconds(10)).until(() -> starts(image).size() >= 2);
    assertThat(starts(image))
        .allSatisfy(
            s ->
                assertThat(s.at())
                    .as(s.pod() + " started after the migration's container ended")
                    .isAfter(migrated));
  }
}
