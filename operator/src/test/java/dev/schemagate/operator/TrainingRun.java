package dev.schemagate.operator;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The training run of the image's start-up archive (operator/src/main/docker/runtime.sh): the
 * operator's process, run by the runtime the image carries with the option that writes the archive,
 * against a fabric8 mock API server in CRUD mode that holds one DatabaseMigration and the
 * Deployment it gates. Once the operator has written that resource's first status (its Deployment
 * paused, its Job created), it is stopped with SIGTERM, and the JVM writes the archive as it exits:
 * the classes (and with Java 25 the method profiles) of a start up to the first reconcile, not only
 * of a boot that finds no API server.
 *
 * <pre>
 *   java -cp TEST_CLASSPATH dev.schemagate.operator.TrainingRun CRD APP JAVA [OPTION...]
 * </pre>
 *
 * runs {@code JAVA OPTION... -jar quarkus-run.jar} in APP (the quarkus-app folder); exits 0 when
 * the process wrote the status and then exited by itself, 1 otherwise (runtime.sh then trains
 * without an API server, as before).
 */
public final class TrainingRun {
  private static final Duration FIRST_STATUS = Duration.ofSeconds(60);
  private static final Duration EXIT = Duration.ofMinutes(3);

  private TrainingRun() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: TrainingRun CRD APP JAVA [OPTION...]");
      System.exit(2);
    }
    Path crd = Path.of(args[0]);
    Path app = Path.of(args[1]);
    List<String> command = new ArrayList<>(List.of(args).subList(2, args.length));
    // the prod configuration but for leader election (a leader does not exit on SIGTERM before
    // its shutdown's 4 s are up, and a halted JVM writes no archive)
    command.add("-Dquarkus.profile=training");
    command.add("-jar");
    command.add("quarkus-run.jar");
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    int exit = 1;
    try (KubernetesClient client = server.createClient()) {
      try (InputStream in = Files.newInputStream(crd)) {
        CustomResourceDefinition definition =
            client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(definition).create();
        server.expectCustomResource(CustomResourceDefinitionContext.fromCrd(definition));
      }
      client.apps().deployments().inNamespace("default").resource(app()).create();
      client.resource(migration()).inNamespace("default").create();
      exit = train(client, command, app) ? 0 : 1;
    } finally {
      server.destroy();
    }
    System.exit(exit);
  }

  private static boolean train(KubernetesClient client, List<String> command, Path app)
      throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(app.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Map<String, String> env = builder.environment();
    // the client configured as in a pod: an address and a token, no kubeconfig
    env.remove("KUBECONFIG");
    env.put("KUBERNETES_MASTER", client.getConfiguration().getMasterUrl());
    env.put("KUBERNETES_AUTH_TOKEN", "training");
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.put("KUBERNETES_NAMESPACE", "default");
    env.put("QUARKUS_HTTP_PORT", "0");
    Process operator = builder.start();
    try {
      Instant deadline = Instant.now().plus(FIRST_STATUS);
      while (!hasStatus(client)) {
        if (!operator.isAlive() || Instant.now().isAfter(deadline)) {
          System.err.println("TrainingRun: the operator wrote no status");
          return false;
        }
        Thread.sleep(50);
      }
      // the rest of the first reconcile's work (its Events) before the stop
      Thread.sleep(2000);
      operator.destroy();
      if (!operator.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)) {
        System.err.println("TrainingRun: the operator did not exit within " + EXIT);
        return false;
      }
      return true;
    } finally {
      operator.destroyForcibly();
    }
  }

  private static boolean hasStatus(KubernetesClient client) {
    GenericKubernetesResource dbm =
        client
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace("default")
            .withName("training")
            .get();
    return dbm != null && dbm.getAdditionalProperties().get("status") != null;
  }

  private static GenericKubernetesResource migration() {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName("training").withNamespace("default").build());
    dbm.setAdditionalProperty(
        "spec",
        Map.of(
            "image",
            "schemagate/training-migrations:1",
            "targetRevision",
            "1",
            "gate",
            Map.of("deployments", List.of("app"))));
    return dbm;
  }

  private static Deployment app() {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName("app")
        .withNamespace("default")
        .endMetadata()
        .withNewSpec()
        .withReplicas(1)
        .withNewSelector()
        .addToMatchLabels("app", "app")
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", "app")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("app")
        .withImage("schemagate/training-app:1")
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }
}
