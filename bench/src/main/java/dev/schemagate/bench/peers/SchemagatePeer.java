package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.ChartOperator;
import dev.schemagate.sandbox.Demo;
import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * schemagate, installed with its chart: a DatabaseMigration of the set's runner image, applied with
 * the app's new version. Admission: the app's new pods name the DatabaseMigration and wait at the
 * scheduling gate until it is Ready. Pause: the Deployment is paused by the operator, the new
 * version is applied once it is (as a sync wave would), and resumed once the migration is done.
 */
public final class SchemagatePeer implements Peer {
  static final String NAME = "migrate";
  static final String REST_IMAGE = "bench/peers-rest:1";
  static final String REST_RESULT =
      "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\",\"toRevision\":\"$SCHEMAGATE_TARGET_REVISION\",\"applied\":[],\"durationMs\":1}";
  static final Duration LIMIT = Duration.ofMinutes(5);

  private final String mode;

  private SchemagatePeer(String mode) {
    this.mode = mode;
  }

  public static SchemagatePeer admission() {
    return new SchemagatePeer("Admission");
  }

  public static SchemagatePeer pause() {
    return new SchemagatePeer("Pause");
  }

  @Override
  public String name() {
    return "schemagate, " + (mode.equals("Admission") ? "admission gate" : "Pause");
  }

  @Override
  public void install(Sandbox sandbox) throws Exception {
    if (sandbox.operator() == null) {
      sandbox.startOperator();
    }
    sandbox.simulatedImage(REST_IMAGE, Duration.ZERO, REST_RESULT, 0);
  }

  @Override
  public Round round(
      Sandbox sandbox,
      String namespace,
      String database,
      MigrationSet set,
      String app,
      String appImage)
      throws Exception {
    String image = MigrationSets.runnerImage(sandbox, set);
    String target = Integer.toString(set.count());
    sandbox
        .client()
        .secrets()
        .inNamespace(namespace)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName("db")
                .endMetadata()
                .addToStringData("DATABASE_URL", sandbox.database.url(database))
                .build())
        .create();
    boolean pause = mode.equals("Pause");
    try (Watch<GenericKubernetesResource> ready =
            Watch.until(
                dbms(sandbox, namespace).withName(NAME),
                NAME + " Ready at " + target,
                d -> Demo.isReady(d, target));
        Watch<Deployment> paused =
            Watch.until(
                sandbox.client().apps().deployments().inNamespace(namespace).withName(app),
                app + " paused",
                d -> Boolean.TRUE.equals(d.getSpec().getPaused()));
        Watch<Deployment> serving = Rollout.serving(sandbox, namespace, app, appImage)) {
      Instant applied = Instant.now();
      sandbox
          .client()
          .resource(
              migration(namespace, NAME, image, target, "db", pause ? List.of(app) : List.of()))
          .inNamespace(namespace)
          .create();
      if (pause) {
        paused.await(LIMIT);
        Rollout.setImage(sandbox, namespace, app, appImage, null, null);
      } else {
        Rollout.setImage(sandbox, namespace, app, appImage, "schemagate.dev/migration", NAME);
      }
      Instant migrated = ready.await(LIMIT);
      return new Round(applied, migrated, serving.await(LIMIT));
    }
  }

  private GenericKubernetesResource migration(
      String namespace,
      String name,
      String image,
      String target,
      String secret,
      List<String> gated) {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    Map<String, Object> spec = new HashMap<>();
    spec.put("image", image);
    spec.put("targetRevision", target);
    spec.put("tool", "flyway");
    if (secret != null) {
      spec.put("database", Map.of("secretRef", Map.of("name", secret)));
    }
    spec.put("gate", Map.of("mode", mode, "deployments", gated));
    dbm.setAdditionalProperty("spec", spec);
    return dbm;
  }

  private static io.fabric8.kubernetes.client.dsl.MixedOperation<
          GenericKubernetesResource,
          io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
          io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>>
      dbms(Sandbox sandbox, String namespace) {
    return (io.fabric8.kubernetes.client.dsl.MixedOperation<
            GenericKubernetesResource,
            io.fabric8.kubernetes.api.model.GenericKubernetesResourceList,
            io.fabric8.kubernetes.client.dsl.Resource<GenericKubernetesResource>>)
        sandbox
            .client()
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(namespace);
  }

  /**
   * {@code count} DatabaseMigrations of a Job that reports success at once (no database), each
   * gating nothing, until all are Ready.
   */
  @Override
  public void rest(Sandbox sandbox, String namespace, int count) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      for (int i = 0; i < count; i++) {
        String name = "rest-" + i;
        pool.submit(
            () ->
                sandbox
                    .client()
                    .resource(migration(namespace, name, REST_IMAGE, "1", null, List.of()))
                    .inNamespace(namespace)
                    .create());
      }
    } finally {
      pool.shutdown();
      pool.awaitTermination(5, TimeUnit.MINUTES);
    }
    Demo.waitFor(
        count + " at rest Ready",
        Duration.ofMinutes(30),
        () -> {
          long ready =
              dbms(sandbox, namespace).list().getItems().stream()
                  .filter(d -> Demo.isReady(d, "1"))
                  .count();
          if (ready >= count) {
            return true;
          }
          try {
            Thread.sleep(2000); // a list every 2 s, not waitFor's every 5 ms
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return false;
        });
  }

  @Override
  public Optional<String> controllerPod(Sandbox sandbox) {
    String leader = ((ChartOperator) sandbox.operator()).leader();
    return Optional.ofNullable(leader).map(p -> ChartOperator.NAMESPACE + "/" + p);
  }

  @Override
  public Optional<String> apiUser() {
    return Optional.of(ChartOperator.USER);
  }
}
