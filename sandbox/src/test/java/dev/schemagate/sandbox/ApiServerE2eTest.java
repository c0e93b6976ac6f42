package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the real API server does with the CRD: validation with the field named, printer columns,
 * kubectl wait.
 */
@ExtendWith(E2e.Reporter.class)
class ApiServerE2eTest {
  static final Path SAMPLES = E2e.HOME.resolve("crds/samples");
  E2e world;

  @BeforeAll
  static void sandbox() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(
        E2e.sandbox.cluster instanceof RealCluster, "the embedded API server enforces no schema");
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void theCrdIsEstablishedWithItsCelRules() {
    CustomResourceDefinition crd =
        world
            .client()
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .withName("databasemigrations.schemagate.dev")
            .get();
    assertThat(crd.getStatus().getConditions())
        .anySatisfy(
            c -> assertThat(c.getType() + "=" + c.getStatus()).isEqualTo("Established=True"));
    assertThat(
            crd.getSpec()
                .getVersions()
                .get(0)
                .getSchema()
                .getOpenAPIV3Schema()
                .getProperties()
                .get("spec")
                .getXKubernetesValidations())
        .isNotEmpty();
  }

  @Test
  void everyInvalidSampleIsRejectedByTheApiServerNamingTheField() throws Exception {
    List<Path> samples;
    try (Stream<Path> files = Files.list(SAMPLES.resolve("invalid"))) {
      samples = files.sorted().toList();
    }
    assertThat(samples).hasSizeGreaterThanOrEqualTo(12);
    List<String> accepted = new ArrayList<>();
    for (Path sample : samples) {
      String yaml = Files.readString(sample);
      Matcher field = Pattern.compile("(?m)^# rejected at: (\\S+)").matcher(yaml);
      Matcher message = Pattern.compile("(?m)^# message: (.+)$").matcher(yaml);
      assertThat(field.find()).isTrue();
      KubernetesClientException refused =
          catchThrowableOfType(KubernetesClientException.class, () -> create(yaml));
      if (refused == null) {
        accepted.add(sample.getFileName().toString());
        continue;
      }
      assertThat(refused.getCode()).as(sample.toString()).isEqualTo(422);
      String said = refused.getStatus().getMessage();
      assertThat(said).as(sample.toString()).contains(field.group(1));
      if (message.find()) {
        assertThat(said).as(sample.toString()).contains(message.group(1));
      }
    }
    assertThat(accepted).as("samples the API server accepted").isEmpty();
    // valid.yaml: the DatabaseMigration, then the Deployment it gates; the first is the sample here
    List<String> valid =
        Stream.of(Files.readString(SAMPLES.resolve("valid.yaml")).split("(?m)^---$"))
            .filter(d -> d.contains("kind: DatabaseMigration"))
            .toList();
    assertThat(valid).hasSize(1);
    create(valid.get(0));
    assertThat(world.dbm("orders").get()).isNotNull();
  }

  @Test
  void kubectlShowsThePrinterColumnsAndWaitsForReady() throws Exception {
    String image = E2e.runnerImage("e2e/app-user:4", E2e.exampleMigrations());
    world.secret("orders-db", world.url());
    world.migration("orders", spec(image, "latest", "orders-db"));

    Process wait = kubectl("wait", "--for=condition=Ready", "dbm/orders", "--timeout=60s");
    String waited = new String(wait.getInputStream().readAllBytes());
    assertThat(wait.waitFor(70, TimeUnit.SECONDS)).isTrue();
    assertThat(wait.exitValue()).as(waited).isZero();
    assertThat(waited).contains("databasemigration.schemagate.dev/orders condition met");

    List<String> table = lines(kubectl("get", "dbm"));
    assertThat(table.get(0).split("\\s+"))
        .containsExactly("NAME", "AGE", "TARGET", "CURRENT", "DRIFTED", "PHASE", "AWAITING");
    assertThat(table.get(1).split("\\s+")).startsWith("orders").endsWith("latest", "4", "Ready");
    // AWAITING (the plan hash a Manual approval waits for) is empty: this one is Automatic; so is
    // DRIFTED (what the last drift check found): it has no spec.drift
    // -o wide adds the Job of the run under way: none once Ready
    List<String> wide = lines(kubectl("get", "dbm", "-o", "wide"));
    assertThat(wide.get(0).split("\\s+"))
        .containsExactly("NAME", "AGE", "TARGET", "JOB", "CURRENT", "DRIFTED", "PHASE", "AWAITING");
    assertThat(wide.get(1).split("\\s+"))
        .startsWith("orders")
        .endsWith("latest", "4", "Ready")
        .hasSize(5);
  }

  @Test
  void theOperatorMayLiftItsOwnSchedulingGateAndChangeNothingElseOfAPod() throws Exception {
    E2e.sandbox.idleImage("shop/orders-api:1");
    world
        .client()
        .pods()
        .inNamespace(world.ns)
        .resource(
            new io.fabric8.kubernetes.api.model.PodBuilder()
                .withNewMetadata()
                .withName("waiting")
                .addToLabels("app", "orders-api")
                .endMetadata()
                .withNewSpec()
                .addNewSchedulingGate("schemagate.dev/migration")
                .addNewSchedulingGate("example.com/quota")
                .addNewContainer()
                .withName("api")
                .withImage("shop/orders-api:1")
                .endContainer()
                .endSpec()
                .build())
        .create();
    io.fabric8.kubernetes.client.Config config =
        io.fabric8.kubernetes.client.Config.fromKubeconfig(
            null, Files.readString(E2e.sandbox.kubeconfig), null);
    config.setImpersonateUsername(ChartOperator.USER);
    config.setImpersonateGroups(
        "system:serviceaccounts",
        "system:serviceaccounts:" + ChartOperator.NAMESPACE,
        "system:authenticated");
    try (var operator =
        new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build()) {
      var pod = operator.pods().inNamespace(world.ns).withName("waiting");
      KubernetesClientException label =
          catchThrowableOfType(
              KubernetesClientException.class,
              () ->
                  pod.patch(
                      io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                      "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}"));
      assertThat(label).isNotNull();
      assertThat(label.getStatus().getMessage())
          .contains("may only remove its own scheduling gate");
      KubernetesClientException gateAndLabel =
          catchThrowableOfType(
              KubernetesClientException.class,
              () ->
                  pod.patch(
                      io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                      "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"},"
                          + "{\"op\":\"add\",\"path\":\"/metadata/labels/app\",\"value\":\"other\"}]"));
      assertThat(gateAndLabel).as("its gate with anything else").isNotNull();
      assertThat(gateAndLabel.getStatus().getMessage())
          .contains("may change nothing of a pod but its own scheduling gate");
      KubernetesClientException otherGate =
          catchThrowableOfType(
              KubernetesClientException.class,
              () ->
                  pod.patch(
                      io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                          io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
                      "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/1\"}]"));
      assertThat(otherGate).isNotNull();
      assertThat(otherGate.getStatus().getMessage())
          .contains("may only remove its own scheduling gate");
      pod.patch(
          io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
              io.fabric8.kubernetes.client.dsl.base.PatchType.JSON),
          "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"}]");
    }
    assertThat(
            world
                .client()
                .pods()
                .inNamespace(world.ns)
                .withName("waiting")
                .get()
                .getSpec()
                .getSchedulingGates())
        .extracting(g -> g.getName())
        .containsExactly("example.com/quota");
  }

  private void create(String yaml) {
    GenericKubernetesResource dbm =
        world
            .client()
            .getKubernetesSerialization()
            .unmarshal(yaml, GenericKubernetesResource.class);
    world.client().resource(dbm).inNamespace(world.ns).create();
  }

  private Process kubectl(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                E2e.sandbox.real().kubectl().toString(),
                "--kubeconfig",
                E2e.sandbox.kubeconfig.toString(),
                "--namespace",
                world.ns));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  private static List<String> lines(Process process) throws Exception {
    String out = new String(process.getInputStream().readAllBytes());
    process.waitFor(30, TimeUnit.SECONDS);
    assertThat(process.exitValue()).as(out).isZero();
    return out.lines().filter(l -> !l.isBlank()).toList();
  }
}
