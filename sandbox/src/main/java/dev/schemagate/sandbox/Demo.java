package dev.schemagate.sandbox;

import dev.schemagate.sandbox.cluster.Daemon;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * The sandbox demo: a Secret, a DatabaseMigration of the example migrations and the Deployment it
 * gates at admission (its pods labelled schemagate.dev/migration); the lifecycle as it happens;
 * then a new target, and a rollback with a downgrade. Runs until Ctrl-C, or exits with --once.
 */
public final class Demo {
  static final String NS = "default";
  static final String V1 = "schemagate/app-user-migrations:1";
  static final String V2 = "schemagate/app-user-migrations:2";
  static final Duration DEMO_STEP = Duration.ofSeconds(90);

  /** The label of a pod template that names the DatabaseMigration its pods need. */
  static final String LABEL = "schemagate.dev/migration";

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty(
        "org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils",
        "error");
    boolean once = List.of(args).contains("--once");
    Sandbox.Kind kind =
        List.of(args).contains("--real") ? Sandbox.Kind.REAL : Sandbox.Kind.EMBEDDED;
    String databaseUrl = System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL");
    Path home = Path.of(System.getProperty("schemagate.home", ".")).toAbsolutePath().normalize();
    Path work = home.resolve("sandbox/target/demo");
    System.exit(run(home, work, databaseUrl, kind, once, System.out));
  }

  /** Someone who watches the demo's sandbox from its start (the tests). */
  interface Watch {
    /** Starts watching the sandbox, whose demo uses this database; closed when the demo ends. */
    AutoCloseable start(Sandbox sandbox, String database) throws Exception;
  }

  static int run(
      Path home, Path work, String databaseUrl, Sandbox.Kind kind, boolean once, PrintStream out)
      throws Exception {
    return run(home, work, databaseUrl, kind, once, out, (sandbox, database) -> () -> {});
  }

  static int run(
      Path home,
      Path work,
      String databaseUrl,
      Sandbox.Kind kind,
      boolean once,
      PrintStream out,
      Watch watch)
      throws Exception {
    clean(work);
    out.println(
        kind == Sandbox.Kind.REAL
            ? "schemagate sandbox: starting a Kubernetes cluster in namespaces of its own (etcd, kube-apiserver, kube-controller-manager, kube-scheduler; a node: containerd, kubelet, kube-proxy, CNI; CoreDNS; an image registry with schemagate's images), PostgreSQL and the operator's chart ..."
            : "schemagate sandbox: starting PostgreSQL, the API server and the operator ...");
    // the demo's own database: a name no one else uses, dropped when the demo ends
    String database = "orders_" + java.util.UUID.randomUUID().toString().substring(0, 8);
    try (Sandbox sandbox = Sandbox.start(home, work, databaseUrl, kind)) {
      Path v1 = copyMigrations(home, work.resolve("images/app-user-1"), 2);
      Path v2 = copyMigrations(home, work.resolve("images/app-user-2"), 4);
      sandbox.runnerImage(V1, v1);
      sandbox.runnerImage(V2, v2);
      sandbox.idleImage("shop/orders-api:1");
      sandbox.idleImage("shop/orders-api:2");
      sandbox.database.create(database);
      try (AutoCloseable watching = watch.start(sandbox, database)) {
        return demo(sandbox, kind, database, once, out);
      } finally {
        sandbox.database.drop(database);
      }
    }
  }

  private static int demo(
      Sandbox sandbox, Sandbox.Kind kind, String database, boolean once, PrintStream out)
      throws Exception {
    {
      sandbox.startOperator();
      Path work = sandbox.work;
      out.println(
          "  API server   "
              + sandbox.cluster.url()
              + "   ("
              + (kind == Sandbox.Kind.REAL
                  ? sandbox.real().kubectlCommand() + " get dbm -w"
                  : "kubectl --kubeconfig " + sandbox.kubeconfig + " get dbm -w")
              + ")");
      out.println("  PostgreSQL   port " + sandbox.database.port() + ", database " + database);
      out.println("  images       " + V1 + " = runner + V1..V2,  " + V2 + " = runner + V1..V4");
      out.println(
          "  logs         "
              + (kind == Sandbox.Kind.REAL
                  ? sandbox.real().kubectlCommand() + " logs ..."
                  : work.resolve("operator.log") + ", " + work.resolve("pods")));
      out.println();
      KubernetesClient client = sandbox.client();
      try (Narrator narrator = new Narrator(client, sandbox.cluster, NS, out)) {
        client
            .secrets()
            .inNamespace(NS)
            .resource(
                new SecretBuilder()
                    .withNewMetadata()
                    .withName("orders-db")
                    .endMetadata()
                    .addToStringData(
                        "DATABASE_URL", sandbox.database.url("postgresql+asyncpg", database))
                    .build())
            .create();
        narrator.say(
            "step 1",
            "apply DatabaseMigration orders ("
                + V1
                + ", target 2) and Deployment orders-api (shop/orders-api:1), its pods labelled "
                + LABEL
                + ": orders");
        client.resource(migration(V1, "2", "Forbid")).inNamespace(NS).create();
        client.apps().deployments().inNamespace(NS).resource(app("shop/orders-api:1")).create();
        waitFor(
            "orders is Ready at 2 and the app rolled out",
            DEMO_STEP,
            () -> released(sandbox, narrator, "2", "shop/orders-api:1"));

        narrator.say(
            "step 2", "release 2: migrations to 4 (" + V2 + "), then the app shop/orders-api:2");
        apply(client, migration(V2, "4", "Forbid"));
        waitFor(
            "orders is migrating", DEMO_STEP, () -> narrator.toldInThisStep("orders", "migrating"));
        setAppImage(client, "shop/orders-api:2");
        waitFor(
            "orders is Ready at 4 and the app rolled out",
            DEMO_STEP,
            () -> released(sandbox, narrator, "4", "shop/orders-api:2"));

        narrator.say(
            "step 3",
            "roll back: target 2 with "
                + V1
                + " and downgrade.policy Allow; the app back to shop/orders-api:1");
        apply(client, migration(V1, "2", "Allow"));
        waitFor(
            "orders is migrating", DEMO_STEP, () -> narrator.toldInThisStep("orders", "migrating"));
        setAppImage(client, "shop/orders-api:1");
        waitFor(
            "orders is Ready at 2 and the app rolled back",
            DEMO_STEP,
            () -> released(sandbox, narrator, "2", "shop/orders-api:1"));
        out.println();
        out.println("The database's own history (flyway_schema_history):");
        try (var c = sandbox.database.connect(database);
            var rs =
                c.createStatement()
                    .executeQuery(
                        "SELECT version, description FROM flyway_schema_history WHERE version IS NOT NULL ORDER BY installed_rank")) {
          while (rs.next()) {
            out.println("  " + rs.getString(1) + "  " + rs.getString(2));
          }
        }
        if (once) {
          out.println("Done: every step passed.");
          return 0;
        }
        out.println();
        out.println("The sandbox keeps running for inspection; Ctrl-C stops it.");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        stop.await();
        return 0;
      } catch (IllegalStateException e) {
        out.println("FAILED: " + e.getMessage());
        out.println(
            sandbox.operator() == null
                ? ""
                : "operator log:\n" + tail(sandbox.operator().log(), 3000));
        return 1;
      }
    }
  }

  /**
   * The app's Deployment: its pods name DatabaseMigration orders, so each new one waits at the
   * scheduling gate from its creation until the database is at what orders targets.
   */
  static Deployment app(String image) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName("orders-api")
        .endMetadata()
        .withNewSpec()
        .withReplicas(2)
        .withNewSelector()
        .addToMatchLabels("app", "orders-api")
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", "orders-api")
        .addToLabels(LABEL, "orders")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("api")
        .withImage(image)
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The step is over: the database is at the revision and the app runs the image, and the narrator
   * has told both (the rollout last), so that the next step's lines come after this one's.
   */
  static boolean released(Sandbox sandbox, Narrator narrator, String revision, String image) {
    return ready(sandbox.client(), revision)
        && sandbox.cluster.rolledOutImage(NS, "orders-api").equals(image)
        && narrator.toldInThisStep("orders", "Ready at revision " + revision)
        && narrator.toldInThisStep("orders-api", "rolled out " + image);
  }

  static String tail(String text, int chars) {
    return text.substring(Math.max(0, text.length() - chars));
  }

  static GenericKubernetesResource migration(String image, String target, String downgrade) {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(NS).build());
    dbm.setAdditionalProperty(
        "spec",
        Map.of(
            "image",
            image,
            "targetRevision",
            target,
            "tool",
            "flyway",
            "database",
            Map.of("secretRef", Map.of("name", "orders-db")),
            "gate",
            Map.of("deployments", List.of("orders-api")),
            "downgrade",
            Map.of("policy", downgrade),
            "historyLimit",
            20));
    return dbm;
  }

  /** Changes the app's image the way kubectl set image does: on a conflict, again. */
  static void setAppImage(KubernetesClient client, String image) {
    retryOnConflict(
        () ->
            client
                .apps()
                .deployments()
                .inNamespace(NS)
                .withName("orders-api")
                .edit(
                    d -> {
                      d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
                      return d;
                    }));
  }

  /** Replaces the DatabaseMigration's spec, as kubectl apply does. */
  @SuppressWarnings("unchecked")
  static void apply(KubernetesClient client, GenericKubernetesResource desired) {
    retryOnConflict(
        () ->
            dbm(client)
                .edit(
                    current -> {
                      current.setAdditionalProperty(
                          "spec", desired.getAdditionalProperties().get("spec"));
                      return current;
                    }));
  }

  public static void retryOnConflict(Runnable change) {
    for (int attempt = 1; ; attempt++) {
      try {
        change.run();
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 20) {
          throw e;
        }
      }
    }
  }

  static boolean ready(KubernetesClient client, String revision) {
    GenericKubernetesResource dbm = dbm(client).get();
    return dbm != null && isReady(dbm, revision);
  }

  /** Ready at the revision, for the generation it shows. */
  @SuppressWarnings("unchecked")
  public static boolean isReady(GenericKubernetesResource dbm, String revision) {
    Map<String, Object> status = (Map<String, Object>) dbm.getAdditionalProperties().get("status");
    return status != null
        && "Ready".equals(status.get("phase"))
        && revision.equals(status.get("currentRevision"))
        && dbm.getMetadata()
            .getGeneration()
            .equals(((Number) status.get("observedGeneration")).longValue());
  }

  static Resource<GenericKubernetesResource> dbm(KubernetesClient client) {
    return client
        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
        .inNamespace(NS)
        .withName("orders");
  }

  /** Waits until the condition holds, checking every 5 ms; throws after the limit. */
  public static void waitFor(String what, Duration limit, BooleanSupplier condition)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("timed out waiting until " + what);
      }
      Thread.sleep(5);
    }
  }

  /** The example migrations up to a version: what an image of that release would hold. */
  static Path copyMigrations(Path home, Path dir, int upTo) throws IOException {
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(home.resolve("migrations-image/examples/app_user"))) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        int version = Integer.parseInt(name.substring(1, name.indexOf("__")));
        if (version <= upTo) {
          Files.copy(f, dir.resolve(name));
        }
      }
    }
    return dir;
  }

  /**
   * Empties a sandbox's directory, first stopping any process a sandbox killed with its JVM left
   * running.
   */
  public static void clean(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path pids : walk.filter(p -> p.getFileName().toString().equals("pids")).toList()) {
          Daemon.stopLeftovers(pids);
        }
      }
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
