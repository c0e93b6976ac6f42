package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator's identity narrowed to its job, on the real API server: requests made as the
 * operator's service account (impersonated, as {@code kubectl --as} does) that write what the
 * operator never writes are refused by the chart's admission policies with their message, and what
 * the operator does write passes. And the other way round: a person with {@code edit} may not take
 * the scheduling gate off a pod; a group the chart names may.
 */
@ExtendWith(E2e.Reporter.class)
class OperatorIdentityE2eTest {
  E2e world;
  KubernetesClient operator;

  @BeforeAll
  static void sandbox() throws Exception {
    E2e.sandbox();
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e();
    operator =
        as(
            ChartOperator.USER,
            "system:serviceaccounts",
            "system:serviceaccounts:" + ChartOperator.NAMESPACE);
  }

  @AfterEach
  void close() {
    operator.close();
  }

  static KubernetesClient as(String user, String... groups) throws Exception {
    Config config = Config.fromKubeconfig(null, Files.readString(E2e.sandbox.kubeconfig), null);
    config.setImpersonateUsername(user);
    String[] all = new String[groups.length + 1];
    System.arraycopy(groups, 0, all, 0, groups.length);
    all[groups.length] = "system:authenticated";
    config.setImpersonateGroups(all);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** A DatabaseMigration whose image the policy refuses: it is there, and it starts no Job. */
  void aMigrationThatRunsNothing() {
    world.migration("orders", spec("elsewhere.example.org/migrations:1", "latest", "orders-db"));
  }

  /** A Job of the shape the operator makes: its labels, its bounds, suspended (no pod runs). */
  Job operatorsJob(String name, UnaryOperator<JobBuilder> change) {
    JobBuilder job =
        new JobBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(world.ns)
            .addToLabels("app.kubernetes.io/managed-by", "schemagate")
            .addToLabels("schemagate.dev/run-id", name)
            .addToAnnotations("schemagate.dev/migration", "e2e-none")
            .endMetadata()
            .withNewSpec()
            .withSuspend(true)
            .withNewTemplate()
            .withNewSpec()
            .withRestartPolicy("Never")
            .withAutomountServiceAccountToken(false)
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .endSecurityContext()
            .addToContainers(
                new ContainerBuilder()
                    .withName("migrate")
                    .withImage("e2e/pinned:4")
                    .withNewSecurityContext()
                    .withAllowPrivilegeEscalation(false)
                    .withNewCapabilities()
                    .withDrop("ALL")
                    .endCapabilities()
                    .endSecurityContext()
                    .addNewVolumeMount()
                    .withName("tmp")
                    .withMountPath("/tmp")
                    .endVolumeMount()
                    .build())
            .addNewVolume()
            .withName("tmp")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .endSpec()
            .endTemplate()
            .endSpec();
    return change.apply(job).build();
  }

  /** The API server's message when it forbids the write (403). */
  static String refused(Runnable write) {
    return refused(403, write);
  }

  static String refused(int code, Runnable write) {
    KubernetesClientException e = catchThrowableOfType(KubernetesClientException.class, write::run);
    assertThat(e).as("refused").isNotNull();
    assertThat(e.getCode()).as(e.getMessage()).isEqualTo(code);
    return e.getStatus().getMessage();
  }

  String createJob(KubernetesClient as, Job job) {
    return refused(() -> as.batch().v1().jobs().inNamespace(world.ns).resource(job).create());
  }

  @Test
  void theOperatorCreatesOnlyJobsOfItsOwnShapeInANamespaceWithADatabaseMigration()
      throws Exception {
    // a namespace without a DatabaseMigration: the binding finds no params, which it refuses
    // (the API server says so as an invalid request)
    Job nowhere = operatorsJob("no-migration-here", j -> j);
    assertThat(
            refused(
                422,
                () ->
                    operator.batch().v1().jobs().inNamespace(world.ns).resource(nowhere).create()))
        .contains("schemagate-operator-jobs-namespace", "no params found");
    // an unlabelled Job of the operator is refused there too, by its shape
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "unlabelled",
                    j ->
                        j.editMetadata()
                            .removeFromLabels("app.kubernetes.io/managed-by")
                            .removeFromLabels("schemagate.dev/run-id")
                            .endMetadata())))
        .contains("may create, change and delete only its own Jobs");
    // and nobody else's Job is looked at: a user's plain Job (a CronJob's, a Helm hook's) in a
    // namespace without a DatabaseMigration is made as if schemagate were not installed
    world
        .client()
        .rbac()
        .roleBindings()
        .inNamespace(world.ns)
        .resource(
            new RoleBindingBuilder()
                .withMetadata(new ObjectMetaBuilder().withName("erin").build())
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "edit")
                .addNewSubject()
                .withKind("User")
                .withApiGroup("rbac.authorization.k8s.io")
                .withName("erin")
                .endSubject()
                .build())
        .create();
    try (KubernetesClient erin = as("erin")) {
      Job plain =
          operatorsJob(
              "plain",
              j ->
                  j.editMetadata()
                      .removeFromLabels("app.kubernetes.io/managed-by")
                      .removeFromLabels("schemagate.dev/run-id")
                      .endMetadata());
      assertThat(erin.batch().v1().jobs().inNamespace(world.ns).resource(plain).create())
          .isNotNull();
    }
    aMigrationThatRunsNothing();

    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "host-path",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .addNewVolume()
                            .withName("root")
                            .withNewHostPath()
                            .withPath("/")
                            .endHostPath()
                            .endVolume()
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may mount only emptyDir volumes");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "capability",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .editFirstContainer()
                            .editSecurityContext()
                            .editCapabilities()
                            .withAdd("NET_ADMIN")
                            .endCapabilities()
                            .endSecurityContext()
                            .endContainer()
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may run no privileged container, none that may escalate");
    // (a privileged container this API server refuses itself: --allow-privileged=false)
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "escalates",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .editFirstContainer()
                            .editSecurityContext()
                            .withAllowPrivilegeEscalation(true)
                            .endSecurityContext()
                            .endContainer()
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may run no privileged container, none that may escalate");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "init",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .addNewInitContainer()
                            .withName("fetch")
                            .withImage("e2e/pinned:4")
                            .withNewSecurityContext()
                            .withAllowPrivilegeEscalation(false)
                            .endSecurityContext()
                            .endInitContainer()
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("and no init container");
    // the Alembic kit's init container is the one allowed: by its name and the chart's kit image
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "not-the-kit",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .addNewInitContainer()
                            .withName("alembic-kit")
                            .withImage("e2e/pinned:4")
                            .withNewSecurityContext()
                            .withAllowPrivilegeEscalation(false)
                            .endSecurityContext()
                            .endInitContainer()
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("no init container but the Alembic kit's");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "host-network",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .withHostNetwork(true)
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may not use the node's network, PID or IPC namespace");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "host-pid",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .withHostPID(true)
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may not use the node's network, PID or IPC namespace");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "cluster-admin-ish",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .withServiceAccountName("kube-admin-ish")
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains(
            "may run only as a service account policy.allowedServiceAccounts allows (default,"
                + " e2e-migrator), not kube-admin-ish");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "token",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .withAutomountServiceAccountToken(true)
                            .endSpec()
                            .endTemplate()
                            .endSpec())))
        .contains("may not mount a service account token");
    assertThat(
            createJob(
                operator,
                operatorsJob(
                    "not-ours",
                    j -> j.editMetadata().withLabels(Map.of("app", "backup")).endMetadata())))
        .contains("may create, change and delete only its own Jobs");

    // what the operator does make passes: the default service account, or one the policy allows
    Job made =
        operator
            .batch()
            .v1()
            .jobs()
            .inNamespace(world.ns)
            .resource(
                operatorsJob(
                    "allowed",
                    j ->
                        j.editSpec()
                            .editTemplate()
                            .editSpec()
                            .withServiceAccountName("e2e-migrator")
                            .endSpec()
                            .endTemplate()
                            .endSpec()))
            .create();
    assertThat(made.getMetadata().getUid()).isNotEmpty();

    // someone else's Job: the operator may neither change nor delete it
    world
        .client()
        .batch()
        .v1()
        .jobs()
        .inNamespace(world.ns)
        .resource(
            operatorsJob(
                "backup", j -> j.editMetadata().withLabels(Map.of("app", "backup")).endMetadata()))
        .create();
    var backup = operator.batch().v1().jobs().inNamespace(world.ns).withName("backup");
    assertThat(refused(backup::delete)).contains("may create, change and delete only its own Jobs");
    assertThat(
            refused(
                () ->
                    backup.patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"labels\":{\"app\":\"mine\"}}}")))
        .contains("may create, change and delete only its own Jobs");
    var own = operator.batch().v1().jobs().inNamespace(world.ns).withName("allowed");
    assertThat(
            refused(
                () ->
                    own.patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"spec\":{\"activeDeadlineSeconds\":5}}")))
        .contains("may change only the owner references of its own Jobs");
    own.delete();
  }

  @Test
  void theOperatorChangesOnlySpecPausedAndItsHeldByAnnotationOfADeployment() throws Exception {
    Deployment app =
        E2e.deployment(
            "orders-api",
            new ContainerBuilder().withName("app").withImage("shop/orders-api:1").build());
    app.getSpec().setReplicas(0);
    world.client().apps().deployments().inNamespace(world.ns).resource(app).create();
    var deployment = operator.apps().deployments().inNamespace(world.ns).withName("orders-api");
    UnaryOperator<String> merge =
        body -> {
          deployment.patch(PatchContext.of(PatchType.JSON_MERGE), body);
          return body;
        };

    merge.apply(
        "{\"metadata\":{\"annotations\":{\"schemagate.dev/held-by\":\"orders\"}},"
            + "\"spec\":{\"paused\":true}}");
    Deployment held =
        world.client().apps().deployments().inNamespace(world.ns).withName("orders-api").get();
    assertThat(held.getSpec().getPaused()).isTrue();
    assertThat(held.getMetadata().getAnnotations())
        .containsEntry("schemagate.dev/held-by", "orders");

    assertThat(refused(() -> merge.apply("{\"spec\":{\"replicas\":5}}")))
        .contains("may change only spec.paused of a Deployment's spec");
    assertThat(
            refused(
                () ->
                    merge.apply(
                        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\","
                            + "\"image\":\"elsewhere.example.org/miner:1\"}]}}}}")))
        .contains("may change only spec.paused of a Deployment's spec");
    assertThat(
            refused(
                () ->
                    merge.apply("{\"metadata\":{\"annotations\":{\"example.com/owner\":\"x\"}}}")))
        .contains("may change only its own annotation (schemagate.dev/held-by)");
    assertThat(refused(() -> merge.apply("{\"metadata\":{\"labels\":{\"tier\":\"free\"}}}")))
        .contains("may change only its own annotation (schemagate.dev/held-by)");

    merge.apply(
        "{\"metadata\":{\"annotations\":{\"schemagate.dev/held-by\":null}},"
            + "\"spec\":{\"paused\":false}}");
    Deployment released =
        world.client().apps().deployments().inNamespace(world.ns).withName("orders-api").get();
    assertThat(released.getSpec().getPaused()).as("resumed").isNotEqualTo(Boolean.TRUE);
    assertThat(released.getMetadata().getAnnotations()).doesNotContainKey("schemagate.dev/held-by");
  }

  @Test
  void theOperatorWritesOnlyItsOwnPlanConfigMaps() throws Exception {
    aMigrationThatRunsNothing();
    var dbm = world.dbm("orders").get();
    Map<String, Object> owner =
        Map.of(
            "apiVersion",
            "schemagate.dev/v1alpha1",
            "kind",
            "DatabaseMigration",
            "name",
            "orders",
            "uid",
            dbm.getMetadata().getUid(),
            "controller",
            true,
            "blockOwnerDeletion",
            true);
    UnaryOperator<ConfigMapBuilder> plan =
        b ->
            b.editMetadata()
                .addToLabels("app.kubernetes.io/managed-by", "schemagate")
                .addNewOwnerReference()
                .withApiVersion("schemagate.dev/v1alpha1")
                .withKind("DatabaseMigration")
                .withName("orders")
                .withUid(dbm.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .endOwnerReference()
                .endMetadata();
    var configMaps = operator.configMaps().inNamespace(world.ns);

    ConfigMap ours =
        configMaps
            .resource(
                plan.apply(
                        new ConfigMapBuilder()
                            .withMetadata(new ObjectMetaBuilder().withName("orders-plan").build())
                            .addToData("plan.sql", "ALTER TABLE a ADD b int;"))
                    .build())
            .create();
    assertThat(ours.getMetadata().getOwnerReferences()).hasSize(1);
    // the operator may not read ConfigMaps: it patches the object in hand, without a read
    var planConfigMap = configMaps.resource(ours);
    planConfigMap.patch(
        PatchContext.of(PatchType.JSON_MERGE), "{\"data\":{\"plan.sql\":\"SELECT 1;\"}}");
    assertThat(
            refused(
                () ->
                    planConfigMap.patch(
                        PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"labels\":{\"app.kubernetes.io/managed-by\":null}}}")))
        .contains("may change only the data of its plan ConfigMaps");

    assertThat(
            refused(
                () ->
                    configMaps
                        .resource(
                            new ConfigMapBuilder()
                                .withMetadata(new ObjectMetaBuilder().withName("argocd-cm").build())
                                .addToData("accounts.admin", "apiKey")
                                .build())
                        .create()))
        .contains("may write only its own plan ConfigMaps");
    assertThat(
            refused(
                () ->
                    configMaps
                        .resource(
                            new ConfigMapBuilder()
                                .withMetadata(
                                    new ObjectMetaBuilder()
                                        .withName("api-plan")
                                        .addToLabels("app.kubernetes.io/managed-by", "schemagate")
                                        .addNewOwnerReference()
                                        .withApiVersion("apps/v1")
                                        .withKind("Deployment")
                                        .withName("api")
                                        .withUid("d0e5a1f4-0000-4000-8000-000000000001")
                                        .endOwnerReference()
                                        .build())
                                .build())
                        .create()))
        .contains("may write only its own plan ConfigMaps");

    // someone else's ConfigMap of a plan's name: not the operator's to write over
    ConfigMap theirs =
        world
            .client()
            .configMaps()
            .inNamespace(world.ns)
            .resource(
                new ConfigMapBuilder()
                    .withMetadata(new ObjectMetaBuilder().withName("billing-plan").build())
                    .addToData("plan.sql", "theirs")
                    .build())
            .create();
    assertThat(
            refused(
                () ->
                    configMaps
                        .resource(theirs)
                        .patch(
                            PatchContext.of(PatchType.JSON_MERGE),
                            "{\"metadata\":{\"ownerReferences\":["
                                + world.client().getKubernetesSerialization().asJson(owner)
                                + "]},\"data\":{\"plan.sql\":\"ours\"}}")))
        .contains("may write only its own plan ConfigMaps");
    assertThat(
            world
                .client()
                .configMaps()
                .inNamespace(world.ns)
                .withName("billing-plan")
                .get()
                .getData())
        .containsEntry("plan.sql", "theirs");
  }

  /** A pod at the scheduling gate, and another of someone else's gates. */
  Pod gated(String name) {
    return world
        .client()
        .pods()
        .inNamespace(world.ns)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
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
  }

  @Test
  void onlyTheOperatorOrAnAllowedGroupTakesTheSchedulingGateOffAPod() throws Exception {
    for (String user : List.of("alice", "dave")) {
      world
          .client()
          .rbac()
          .roleBindings()
          .inNamespace(world.ns)
          .resource(
              new RoleBindingBuilder()
                  .withMetadata(new ObjectMetaBuilder().withName(user).build())
                  .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "edit")
                  .addNewSubject()
                  .withKind("User")
                  .withApiGroup("rbac.authorization.k8s.io")
                  .withName(user)
                  .endSubject()
                  .build())
          .create();
    }
    gated("waiting");
    String removeOurs = "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/0\"}]";
    String removeTheirs = "[{\"op\":\"remove\",\"path\":\"/spec/schedulingGates/1\"}]";
    try (KubernetesClient alice = as("alice");
        KubernetesClient dave = as("dave", E2e.BREAK_GLASS)) {
      var pod = alice.pods().inNamespace(world.ns).withName("waiting");
      assertThat(refused(() -> pod.patch(PatchContext.of(PatchType.JSON), removeOurs)))
          .contains(
              "only the schemagate operator may remove the scheduling gate"
                  + " schemagate.dev/migration from a pod");
      assertThat(
              refused(
                  () ->
                      pod.patch(
                          PatchContext.of(PatchType.JSON_MERGE),
                          "{\"spec\":{\"schedulingGates\":null}}")))
          .contains("only the schemagate operator may remove the scheduling gate");
      Pod theirsLifted = pod.patch(PatchContext.of(PatchType.JSON), removeTheirs);
      assertThat(theirsLifted.getSpec().getSchedulingGates())
          .extracting(g -> g.getName())
          .as("edit may lift another gate")
          .containsExactly("schemagate.dev/migration");

      gated("break-glass");
      Pod lifted =
          dave.pods()
              .inNamespace(world.ns)
              .withName("break-glass")
              .patch(PatchContext.of(PatchType.JSON), removeOurs);
      assertThat(lifted.getSpec().getSchedulingGates())
          .extracting(g -> g.getName())
          .containsExactly("example.com/quota");
    }
    gated("released");
    Pod released =
        operator
            .pods()
            .inNamespace(world.ns)
            .withName("released")
            .patch(PatchContext.of(PatchType.JSON), removeOurs);
    assertThat(released.getSpec().getSchedulingGates())
        .extracting(g -> g.getName())
        .containsExactly("example.com/quota");
  }
}
