package dev.schemagate.charts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** charts/schemagate: lint, render, validate, and the promises it makes (RBAC, security). */
class ChartTest {
  static final ObjectMapper YAML = new YAMLMapper();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] NAMESPACED = {
    "--set", "watch.mode=namespaces", "--set", "watch.namespaces={shop,billing}"
  };

  /**
   * helm template sees no cluster, so on the webhook path it needs cert-manager for the webhook's
   * certificate (the chart's own CA is made only where lookup sees the cluster, and kept there):
   * the renders below ask for it, and a later --set may take it back.
   */
  static final String[] CERT_MANAGER = {"--set", "gate.admission.webhook.certManager.enabled=true"};

  static List<JsonNode> render(String... extra) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("template", "sg", Tools.released().toString(), "--namespace", "ops"));
    args.addAll(List.of(CERT_MANAGER));
    args.addAll(List.of(extra));
    Tools.Result result = Tools.helm(args.toArray(String[]::new));
    assertThat(result.exit()).as(result.err()).isZero();
    return documents(result.out());
  }

  static List<JsonNode> documents(String yaml) throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(yaml)) {
      for (var it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
        JsonNode doc = it.next();
        if (doc != null && !doc.isEmpty()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  /** A cluster that serves MutatingAdmissionPolicy v1 (Kubernetes 1.36+). */
  static final String[] POLICY = {
    "--api-versions", "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"
  };

  static List<JsonNode> ofKind(List<JsonNode> docs, String kind) {
    return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
  }

  static JsonNode named(List<JsonNode> docs, String name) {
    return docs.stream()
        .filter(d -> name.equals(d.at("/metadata/name").asText()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " among " + docs));
  }

  @Test
  void lintPassesForBothScopes() throws Exception {
    Tools.Result cluster = Tools.helm("lint", Tools.released().toString());
    assertThat(cluster.exit()).as(cluster.out() + cluster.err()).isZero();
    List<String> args = new ArrayList<>(List.of("lint", Tools.released().toString()));
    args.addAll(List.of(NAMESPACED));
    Tools.Result namespaced = Tools.helm(args.toArray(String[]::new));
    assertThat(namespaced.exit()).as(namespaced.out() + namespaced.err()).isZero();
  }

  @Test
  void renderedManifestsAreValidKubernetesObjects() throws Exception {
    Path node = Tools.TOOLS.resolve("node");
    Files.copy(
        Path.of("src/test/resources/validate.mjs"),
        node.resolve("validate.mjs"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    for (String[] values :
        List.of(
            new String[0],
            NAMESPACED,
            new String[] {
              "--set",
              "metrics.serviceMonitor.enabled=true",
              "--set",
              "metrics.prometheusRule.enabled=true",
              "--set",
              "metrics.rulesConfigMap.enabled=true",
              "--set",
              "metrics.dashboard.enabled=true",
              "--set",
              "image.digest=sha256:" + "a".repeat(64)
            },
            POLICY,
            new String[] {
              "--api-versions", "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy"
            },
            new String[] {
              "--set", "gate.admission.webhook.certManager.issuerRef.kind=ClusterIssuer",
              "--set", "gate.admission.webhook.certManager.issuerRef.name=platform-ca"
            })) {
      List<String> args =
          new ArrayList<>(
              List.of("template", "sg", Tools.released().toString(), "--namespace", "ops"));
      args.addAll(List.of(CERT_MANAGER));
      args.addAll(List.of(values));
      Tools.Result rendered = Tools.helm(args.toArray(String[]::new));
      assertThat(rendered.exit()).as(rendered.err()).isZero();
      String manifests = rendered.out();
      Tools.Result validation =
          Tools.run(List.of("node", node.resolve("validate.mjs").toString()), manifests);
      assertThat(validation.exit()).as(validation.out() + validation.err()).isZero();
      assertThat(validation.out()).contains("valid apps/v1/Deployment sg-schemagate");
    }
  }

  /** The exact rules: what the operator needs, nothing more, and no Secrets. */
  static final String RULES =
      """
      - apiGroups: ["schemagate.dev"]
        resources: ["databasemigrations"]
        verbs: ["get", "list", "watch", "patch", "update"]
      - apiGroups: ["schemagate.dev"]
        resources: ["databasemigrations/status"]
        verbs: ["get", "patch", "update"]
      - apiGroups: ["schemagate.dev"]
        resources: ["databasemigrations/finalizers"]
        verbs: ["update"]
      - apiGroups: ["batch"]
        resources: ["jobs"]
        verbs: ["create", "get", "list", "watch", "delete", "patch"]
      - apiGroups: [""]
        resources: ["pods"]
        verbs: ["get", "list", "watch"]
      - apiGroups: ["apps"]
        resources: ["deployments"]
        verbs: ["get", "list", "watch", "patch"]
      - apiGroups: [""]
        resources: ["pods"]
        verbs: ["patch"]
      - apiGroups: ["apps"]
        resources: ["replicasets"]
        verbs: ["list", "patch"]
      - apiGroups: [""]
        resources: ["configmaps"]
        verbs: ["create", "patch"]
      - apiGroups: [""]
        resources: ["events"]
        verbs: ["create", "patch", "get", "list", "watch"]
      """;

  static List<JsonNode> operatorRoles(List<JsonNode> docs) {
    return ofKind(docs, "ClusterRole").stream()
        .filter(r -> !r.at("/metadata/name").asText().matches(".*-(view|edit)$"))
        .toList();
  }

  @Test
  void clusterScopeGrantsExactlyTheRulesTheOperatorNeeds() throws Exception {
    List<JsonNode> docs = render();
    JsonNode expected = YAML.readTree(RULES);
    assertThat(operatorRoles(docs))
        .singleElement()
        .satisfies(r -> assertThat(r.path("rules")).isEqualTo(expected));
    assertThat(ofKind(docs, "ClusterRoleBinding"))
        .singleElement()
        .satisfies(
            b -> assertThat(b.path("subjects").get(0).path("namespace").asText()).isEqualTo("ops"));
    JsonNode lease =
        YAML.readTree(
            """
        - apiGroups: ["coordination.k8s.io"]
          resources: ["leases"]
          resourceNames: ["schemagate-operator"]
          verbs: ["get", "update", "patch"]
        - apiGroups: ["coordination.k8s.io"]
          resources: ["leases"]
          verbs: ["create"]
        """);
    assertThat(ofKind(docs, "Role"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.path("metadata").path("namespace").asText()).isEqualTo("ops");
              assertThat(r.path("rules")).isEqualTo(lease);
            });
    for (JsonNode doc : docs) {
      assertThat(doc.toString()).as("no access to Secrets").doesNotContain("\"secrets\"");
    }
    // the operator makes its Lease (the create above): a Lease in the chart would be reset to
    // free by every helm upgrade or GitOps sync, under a live leader
    assertThat(ofKind(docs, "Lease")).isEmpty();
  }

  @Test
  void namespacedScopeGrantsARoleInEachWatchedNamespaceAndTellsTheOperator() throws Exception {
    List<JsonNode> docs = render(NAMESPACED);
    JsonNode expected = YAML.readTree(RULES);
    assertThat(operatorRoles(docs)).isEmpty();
    assertThat(ofKind(docs, "ClusterRoleBinding")).isEmpty();
    Map<String, JsonNode> roles = new TreeMap<>();
    ofKind(docs, "Role")
        .forEach(
            r ->
                roles.put(
                    r.path("metadata").path("namespace").asText()
                        + "/"
                        + r.path("metadata").path("name").asText(),
                    r));
    assertThat(roles)
        .containsOnlyKeys(
            "billing/sg-schemagate", "shop/sg-schemagate", "ops/sg-schemagate-leader-election");
    assertThat(roles.get("shop/sg-schemagate").path("rules")).isEqualTo(expected);
    assertThat(roles.get("billing/sg-schemagate").path("rules")).isEqualTo(expected);
    JsonNode env = ofKind(docs, "Deployment").get(0).at("/spec/template/spec/containers/0/env");
    assertThat(env.toString())
        .contains("{\"name\":\"SCHEMAGATE_WATCH_NAMESPACES\",\"value\":\"shop,billing\"}");
    Tools.Result none =
        Tools.helm(
            "template",
            "sg",
            Tools.released().toString(),
            "--set",
            "watch.mode=namespaces",
            CERT_MANAGER[0],
            CERT_MANAGER[1]);
    assertThat(none.exit()).isNotZero();
    assertThat(none.err()).contains("list them in watch.namespaces");
  }

  @Test
  void theOperatorRunsRestrictedWithProbesLeaderElectionAndADisruptionBudget() throws Exception {
    List<JsonNode> docs = render();
    JsonNode pod = ofKind(docs, "Deployment").get(0).at("/spec/template/spec");
    JsonNode container = pod.at("/containers/0");
    assertThat(ofKind(docs, "Deployment").get(0).at("/spec/replicas").asInt()).isEqualTo(2);
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
    assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
    assertThat(container.at("/securityContext/capabilities/drop").toString())
        .isEqualTo("[\"ALL\"]");
    assertThat(container.at("/volumeMounts/0/mountPath").asText()).isEqualTo("/tmp");
    assertThat(pod.at("/volumes/0/emptyDir").isObject()).isTrue();
    assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
    assertThat(container.at("/resources/requests/memory").asText()).isNotEmpty();
    assertThat(container.at("/resources/limits/memory").asText()).isNotEmpty();
    assertThat(container.at("/env").toString())
        .contains("SCHEMAGATE_LEASE_NAMESPACE", "metadata.namespace");
    assertThat(container.at("/image").asText())
        .isEqualTo(Tools.RELEASE_REPOSITORY + "@" + Tools.RELEASE_DIGEST);
    assertThat(ofKind(docs, "PodDisruptionBudget"))
        .singleElement()
        .satisfies(p -> assertThat(p.at("/spec/minAvailable").asInt()).isEqualTo(1));
    assertThat(ofKind(render("--set", "replicaCount=1"), "PodDisruptionBudget")).isEmpty();
    assertThat(
            ofKind(render("--set", "image.digest=sha256:" + "b".repeat(64)), "Deployment")
                .get(0)
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .isEqualTo(Tools.RELEASE_REPOSITORY + "@sha256:" + "b".repeat(64));
  }

  /**
   * A chart from a clone names no image (only a release writes one into it): installing it fails
   * with a message that names the values and both ways on, before anything reaches a cluster.
   */
  @Test
  void aChartFromACloneNamesNoImageAndSaysHowToGoOn() throws Exception {
    JsonNode values = YAML.readTree(Tools.CHART.resolve("values.yaml").toFile()).path("image");
    assertThat(values.path("repository").asText()).isEmpty();
    assertThat(values.path("digest").asText()).isEmpty();
    Tools.Result clone =
        Tools.helm("template", "sg", Tools.CHART.toString(), CERT_MANAGER[0], CERT_MANAGER[1]);
    assertThat(clone.exit()).isNotZero();
    assertThat(clone.err())
        .contains(
            "image.repository and image.digest are not set",
            "this chart comes from a clone",
            "helm install schemagate oci://REGISTRY/charts/schemagate --version VERSION",
            "--set image.repository=REGISTRY/schemagate/operator --set image.digest=sha256:",
            "docs/install.md");
    // a repository alone is not enough: no tag is made up for it
    Tools.Result noDigest =
        Tools.helm(
            "template",
            "sg",
            Tools.CHART.toString(),
            "--set",
            "image.repository=r.example/op",
            CERT_MANAGER[0],
            CERT_MANAGER[1]);
    assertThat(noDigest.exit()).isNotZero();
    assertThat(noDigest.err()).contains("image.repository and image.digest are not set");
    // an image someone pushed, by tag
    assertThat(
            ofKind(
                    documents(
                        Tools.helm(
                                "template",
                                "sg",
                                Tools.CHART.toString(),
                                "--set",
                                "image.repository=r.example/op",
                                "--set-string",
                                "image.tag=1.2",
                                CERT_MANAGER[0],
                                CERT_MANAGER[1])
                            .out()),
                    "Deployment")
                .get(0)
                .at("/spec/template/spec/containers/0/image")
                .asText())
        .isEqualTo("r.example/op:1.2");
  }

  /**
   * What a release publishes: the chart's values name the operator's image by digest (the tag in
   * the reference it is given dropped), its version and appVersion are the release's, and a
   * reference without a digest is refused.
   */
  @Test
  void theReleasedChartRunsTheReleasesImageByDigest() throws Exception {
    Path dir = Path.of("target", "release-9.8.7").toAbsolutePath();
    List<String> command =
        List.of(
            "env",
            "SCHEMAGATE_VERSION=9.8.7",
            "bash",
            Tools.ROOT.resolve("scripts/chart").toString(),
            "package",
            "10.0.0.1:5000/schemagate/operator:9.8.7@sha256:" + "d".repeat(64),
            "10.0.0.1:5000/schemagate/alembic-kit:9.8.7@sha256:" + "e".repeat(64),
            dir.toString());
    Tools.Result packaged = Tools.run(command, null);
    assertThat(packaged.exit()).as(packaged.err()).isZero();
    Path tgz = dir.resolve("schemagate-9.8.7.tgz");
    assertThat(packaged.out().strip()).isEqualTo(tgz.toString());
    JsonNode chart = YAML.readTree(Tools.helm("show", "chart", tgz.toString()).out());
    assertThat(chart.path("version").asText()).isEqualTo("9.8.7");
    assertThat(chart.path("appVersion").asText()).isEqualTo("9.8.7");
    JsonNode image =
        YAML.readTree(Tools.helm("show", "values", tgz.toString()).out()).path("image");
    assertThat(image.path("repository").asText()).isEqualTo("10.0.0.1:5000/schemagate/operator");
    assertThat(image.path("digest").asText()).isEqualTo("sha256:" + "d".repeat(64));
    assertThat(image.path("tag").asText()).isEmpty();
    JsonNode kit =
        YAML.readTree(Tools.helm("show", "values", tgz.toString()).out()).path("alembicKit");
    assertThat(kit.path("repository").asText()).isEqualTo("10.0.0.1:5000/schemagate/alembic-kit");
    assertThat(kit.path("digest").asText()).isEqualTo("sha256:" + "e".repeat(64));
    assertThat(
            Tools.helm("template", "schemagate", tgz.toString(), CERT_MANAGER[0], CERT_MANAGER[1])
                .out())
        .as("the operator gives Alembic Jobs the release's kit")
        .contains(
            "- name: SCHEMAGATE_ALEMBIC_KIT_IMAGE\n"
                + "          value: \"10.0.0.1:5000/schemagate/alembic-kit@sha256:"
                + "e".repeat(64)
                + "\"");

    Tools.Result byTag =
        Tools.run(
            List.of(
                "bash",
                Tools.ROOT.resolve("scripts/chart").toString(),
                "package",
                "10.0.0.1:5000/schemagate/operator:9.8.7",
                "10.0.0.1:5000/schemagate/alembic-kit:9.8.7@sha256:" + "e".repeat(64),
                dir.toString()),
            null);
    assertThat(byTag.exit()).isNotZero();
    assertThat(byTag.err()).contains("is not REPOSITORY@sha256:DIGEST");
  }

  /**
   * Roles for people: view and edit, aggregated to the built-in roles; neither writes the status,
   * the operator's record (whoever writes it could release a held app).
   */
  @Test
  void peopleGetAggregatedViewAndEditRolesThatNeverWriteStatus() throws Exception {
    for (String[] values : List.of(new String[0], NAMESPACED)) {
      Map<String, JsonNode> roles = new TreeMap<>();
      ofKind(render(values), "ClusterRole")
          .forEach(r -> roles.put(r.at("/metadata/name").asText(), r));
      JsonNode view = roles.get("sg-schemagate-view");
      JsonNode edit = roles.get("sg-schemagate-edit");
      assertThat(view.at("/metadata/labels/rbac.authorization.k8s.io~1aggregate-to-view").asText())
          .isEqualTo("true");
      assertThat(edit.at("/metadata/labels/rbac.authorization.k8s.io~1aggregate-to-edit").asText())
          .isEqualTo("true");
      assertThat(edit.at("/metadata/labels/rbac.authorization.k8s.io~1aggregate-to-admin").asText())
          .isEqualTo("true");
      assertThat(view.path("rules"))
          .isEqualTo(
              YAML.readTree(
                  """
                  - apiGroups: ["schemagate.dev"]
                    resources: ["databasemigrations", "databasemigrations/status"]
                    verbs: ["get", "list", "watch"]
                  """));
      assertThat(edit.path("rules"))
          .isEqualTo(
              YAML.readTree(
                  """
                  - apiGroups: ["schemagate.dev"]
                    resources: ["databasemigrations"]
                    verbs: ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
                  """));
      for (JsonNode role : List.of(view, edit)) {
        for (JsonNode rule : role.path("rules")) {
          if (rule.path("resources").toString().contains("status")) {
            assertThat(rule.path("verbs").toString())
                .as("no status writes for people")
                .isEqualTo("[\"get\",\"list\",\"watch\"]");
          }
        }
      }
    }
    assertThat(ofKind(render("--set", "userRoles.enabled=false"), "ClusterRole"))
        .extracting(r -> r.at("/metadata/name").asText())
        .containsExactly("sg-schemagate");
  }

  /** The cluster admin's policy and the Jobs' bounds reach the operator as its settings. */
  @Test
  void thePolicyAndTheJobBoundsAreTheOperatorsSettings() throws Exception {
    JsonNode env = ofKind(render(), "Deployment").get(0).at("/spec/template/spec/containers/0/env");
    assertThat(env.toString())
        .contains(
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOWED_IMAGES\",\"value\":\"*\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_REQUIRE_IMAGE_DIGEST\",\"value\":\"false\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOWED_SERVICE_ACCOUNTS\",\"value\":\"default\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOW_CUSTOM_COMMANDS\",\"value\":\"true\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_CPU_REQUEST\",\"value\":\"100m\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_MEMORY_REQUEST\",\"value\":\"256Mi\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_CPU_LIMIT\",\"value\":\"1\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_MEMORY_LIMIT\",\"value\":\"512Mi\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_TMP_SIZE_LIMIT\",\"value\":\"256Mi\"}");
    JsonNode strict =
        ofKind(
                render(
                    "--set",
                        "policy.allowedImages={images.example.org/acme/*,registry.example.com/shop/*}",
                    "--set", "policy.requireImageDigest=true",
                    "--set", "policy.allowedServiceAccounts={default,migrator}",
                    "--set", "policy.allowCustomCommands=false",
                    "--set", "defaultJobResources.limits.cpu=",
                    "--set", "defaultJobTmpSizeLimit=1Gi"),
                "Deployment")
            .get(0)
            .at("/spec/template/spec/containers/0/env");
    assertThat(strict.toString())
        .contains(
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOWED_IMAGES\",\"value\":\"images.example.org/acme/*,registry.example.com/shop/*\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_REQUIRE_IMAGE_DIGEST\",\"value\":\"true\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOWED_SERVICE_ACCOUNTS\",\"value\":\"default,migrator\"}",
            "{\"name\":\"SCHEMAGATE_POLICY_ALLOW_CUSTOM_COMMANDS\",\"value\":\"false\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_CPU_LIMIT\",\"value\":\"none\"}",
            "{\"name\":\"SCHEMAGATE_DEFAULT_JOB_TMP_SIZE_LIMIT\",\"value\":\"1Gi\"}");
    Tools.Result empty =
        Tools.helm(
            "template", "sg", Tools.released().toString(), "--set", "policy.allowedImages=null");
    assertThat(empty.exit()).isNotZero();
    Tools.Result none =
        Tools.helm(
            "template", "sg", Tools.released().toString(), "--set-json", "policy.allowedImages=[]");
    assertThat(none.exit()).as("an empty list would fall back to the default").isNotZero();
    assertThat(none.err()).contains("allowedImages");
    Tools.Result badAccount =
        Tools.helm(
            "template",
            "sg",
            Tools.released().toString(),
            "--set",
            "policy.allowedServiceAccounts={Not_A_Name}");
    assertThat(badAccount.exit()).isNotZero();
  }

  /**
   * gate.admission.missingMigration reaches both paths: the operator (its webhook) as a setting,
   * the policy path as a policy that gates every labelled pod and a rollout-gate policy that takes
   * the gate off again for a pod whose DatabaseMigration exists and needs nothing (Hold), or
   * neither (Admit).
   */
  @Test
  void aPodNamingAMissingMigrationIsHeldOrAdmittedAsTheAdminChose() throws Exception {
    List<JsonNode> hold = render(POLICY);
    assertThat(
            ofKind(hold, "Deployment").get(0).at("/spec/template/spec/containers/0/env").toString())
        .contains("{\"name\":\"SCHEMAGATE_GATE_MISSING_MIGRATION\",\"value\":\"Hold\"}");
    JsonNode gateAll =
        named(ofKind(hold, "MutatingAdmissionPolicy"), "sg-schemagate-missing-migration");
    assertThat(gateAll.at("/spec/paramKind").isMissingNode()).as("no params: every pod").isTrue();
    assertThat(gateAll.at("/spec/mutations/0/jsonPatch/expression").asText())
        .contains("\"/spec/schedulingGates\"", "schemagate.dev/migration");
    named(ofKind(hold, "MutatingAdmissionPolicyBinding"), "sg-schemagate-missing-migration");
    JsonNode rollout = named(ofKind(hold, "MutatingAdmissionPolicy"), "sg-schemagate-rollout-gate");
    assertThat(rollout.at("/spec/reinvocationPolicy").asText()).isEqualTo("IfNeeded");
    assertThat(rollout.at("/spec/mutations/0/jsonPatch/expression").asText())
        .contains("op: \"replace\", path: \"/spec/schedulingGates\"");

    List<String> args = new ArrayList<>(List.of(POLICY));
    args.addAll(List.of("--set", "gate.admission.missingMigration=Admit"));
    List<JsonNode> admit = render(args.toArray(String[]::new));
    assertThat(
            ofKind(admit, "Deployment")
                .get(0)
                .at("/spec/template/spec/containers/0/env")
                .toString())
        .contains("{\"name\":\"SCHEMAGATE_GATE_MISSING_MIGRATION\",\"value\":\"Admit\"}");
    assertThat(ofKind(admit, "MutatingAdmissionPolicy"))
        .extracting(p -> p.at("/metadata/name").asText())
        .containsExactly("sg-schemagate-rollout-gate");
    JsonNode only = ofKind(admit, "MutatingAdmissionPolicy").get(0);
    assertThat(only.at("/spec/reinvocationPolicy").asText()).isEqualTo("Never");
    assertThat(only.at("/spec/mutations/0/jsonPatch/expression").asText())
        .doesNotContain("replace");

    Tools.Result misspelt =
        Tools.helm(
            "template",
            "sg",
            Tools.CHART.toString(),
            "--set",
            "gate.admission.missingMigration=Allow");
    assertThat(misspelt.exit()).isNotZero();
    assertThat(misspelt.err()).contains("missingMigration");
  }

  @Test
  void onAClusterWithMutatingAdmissionPolicyPodsAreHeldByThePolicy() throws Exception {
    List<JsonNode> docs = render(POLICY);
    assertThat(ofKind(docs, "MutatingWebhookConfiguration")).isEmpty();
    JsonNode policy = named(ofKind(docs, "MutatingAdmissionPolicy"), "sg-schemagate-rollout-gate");
    assertThat(policy.path("apiVersion").asText()).isEqualTo("admissionregistration.k8s.io/v1");
    assertThat(policy.at("/spec/paramKind/kind").asText()).isEqualTo("DatabaseMigration");
    assertThat(policy.at("/spec/matchConstraints/objectSelector/matchExpressions/0/key").asText())
        .isEqualTo("schemagate.dev/migration");
    assertThat(policy.at("/spec/variables").toString())
        .as("the chart's default mode is in the policy")
        .contains("'Admission'");
    JsonNode binding =
        named(ofKind(docs, "MutatingAdmissionPolicyBinding"), "sg-schemagate-rollout-gate");
    assertThat(binding.at("/spec/paramRef/parameterNotFoundAction").asText())
        .as("a namespace with no DatabaseMigration: gate.admission.missingMigration, not a refusal")
        .isEqualTo("Allow");
    JsonNode env = ofKind(docs, "Deployment").get(0).at("/spec/template/spec/containers/0/env");
    assertThat(env.toString())
        .contains("SCHEMAGATE_GATE_MODE")
        .doesNotContain("SCHEMAGATE_WEBHOOK_ENABLED");
    assertThat(
            ofKind(
                render(
                    "--api-versions",
                    "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy"),
                "MutatingAdmissionPolicy"))
        .hasSize(2)
        .allSatisfy(
            p ->
                assertThat(p.path("apiVersion").asText())
                    .isEqualTo("admissionregistration.k8s.io/v1beta1"));
    // the namespaced scope binds the policy to the watched namespaces only
    List<String> args = new ArrayList<>(List.of(POLICY));
    args.addAll(List.of(NAMESPACED));
    assertThat(
            ofKind(render(args.toArray(String[]::new)), "MutatingAdmissionPolicyBinding")
                .get(0)
                .at("/spec/matchResources/namespaceSelector/matchExpressions/0/values")
                .toString())
        .isEqualTo("[\"shop\",\"billing\"]");
  }

  @Test
  void elsewhereTheOperatorServesTheWebhookOnlyForPodsThatNameAMigration() throws Exception {
    List<JsonNode> docs = render();
    assertThat(ofKind(docs, "MutatingAdmissionPolicy")).isEmpty();
    JsonNode webhook = ofKind(docs, "MutatingWebhookConfiguration").get(0).at("/webhooks/0");
    assertThat(webhook.at("/objectSelector/matchExpressions/0/key").asText())
        .isEqualTo("schemagate.dev/migration");
    assertThat(webhook.at("/failurePolicy").asText()).isEqualTo("Fail");
    assertThat(webhook.at("/clientConfig/service/path").asText()).isEqualTo("/mutate-pods");
    assertThat(webhook.at("/rules/0/operations").toString()).isEqualTo("[\"CREATE\"]");
    JsonNode pod = ofKind(docs, "Deployment").get(0).at("/spec/template/spec");
    // HTTPS only, on the webhook's own port; nothing of the webhook over plain HTTP
    assertThat(pod.at("/containers/0/env").toString())
        .contains(
            "SCHEMAGATE_WEBHOOK_ENABLED",
            "SCHEMAGATE_WEBHOOK_PORT",
            "SCHEMAGATE_WEBHOOK_CERT_FILE",
            "/etc/schemagate/webhook/tls.crt")
        .doesNotContain("QUARKUS_HTTP_SSL", "QUARKUS_HTTP_INSECURE_REQUESTS");
    assertThat(pod.at("/containers/0/ports").toString()).contains("\"webhook\"", "8443");
    assertThat(pod.at("/volumes").toString()).contains("sg-schemagate-webhook-tls");
    JsonNode service =
        ofKind(docs, "Service").stream()
            .filter(d -> d.at("/metadata/name").asText().endsWith("-webhook"))
            .findFirst()
            .orElseThrow();
    assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("webhook");
    // with cert-manager the chart makes no certificate of its own
    List<JsonNode> managed = docs;
    assertThat(ofKind(managed, "Secret")).isEmpty();
    assertThat(webhook.has("clientConfig") && webhook.at("/clientConfig").has("caBundle"))
        .as("cert-manager injects the CA")
        .isFalse();
    assertThat(ofKind(managed, "Certificate")).hasSize(1);
    assertThat(
            ofKind(managed, "MutatingWebhookConfiguration")
                .get(0)
                .at("/metadata/annotations/cert-manager.io~1inject-ca-from")
                .asText())
        .isEqualTo("ops/sg-schemagate-webhook");
  }

  /**
   * A render that cannot see the cluster (helm template, Argo CD) would make a new webhook CA each
   * time: the chart refuses it and says what to do instead; where it sees the cluster (helm
   * install, helm upgrade) it makes the CA once and keeps it (ChartE2eTest).
   */
  @Test
  void withoutTheClusterTheChartMakesNoWebhookCaOfItsOwnAndPointsToCertManager() throws Exception {
    Tools.Result refused =
        Tools.helm("template", "sg", Tools.released().toString(), "--namespace", "ops");
    assertThat(refused.exit()).as(refused.out()).isNotZero();
    assertThat(refused.err())
        .contains(
            "cannot see the cluster",
            "would change at every render",
            "gate.admission.webhook.certManager.enabled=true",
            "docs/install.md#the-webhooks-certificate");
    // the same values on the policy path need no certificate
    List<String> policy =
        new ArrayList<>(
            List.of("template", "sg", Tools.released().toString(), "--namespace", "ops"));
    policy.addAll(List.of(POLICY));
    Tools.Result rendered = Tools.helm(policy.toArray(String[]::new));
    assertThat(rendered.exit()).as(rendered.err()).isZero();
  }

  /** The chart says which Kubernetes it needs (README: 1.30 or later), and helm refuses older. */
  @Test
  void theChartRefusesAKubernetesOlderThan130() throws Exception {
    Tools.Result old =
        Tools.helm(
            "template",
            "sg",
            Tools.released().toString(),
            "--kube-version",
            "1.29.9",
            "--set",
            "gate.admission.webhook.certManager.enabled=true");
    assertThat(old.exit()).as(old.out()).isNotZero();
    assertThat(old.err()).contains("chart requires kubeVersion: >=1.30.0-0");
    assertThat(
            YAML.readTree(Tools.CHART.resolve("Chart.yaml").toFile()).path("kubeVersion").asText())
        .isEqualTo(">=1.30.0-0");
    for (String version : List.of("1.30.0", "v1.30.4-eks-a737599")) {
      Tools.Result ok =
          Tools.helm(
              "template",
              "sg",
              Tools.released().toString(),
              "--kube-version",
              version,
              "--set",
              "gate.admission.webhook.certManager.enabled=true");
      assertThat(ok.exit()).as(version + ": " + ok.err()).isZero();
    }
  }

  @Test
  void theOperatorMayChangeNothingOfAPodButItsOwnGate() throws Exception {
    for (String[] values : List.of(new String[0], POLICY)) {
      List<JsonNode> docs = render(values);
      JsonNode guard =
          named(ofKind(docs, "ValidatingAdmissionPolicy"), "sg-schemagate-pod-gate-guard");
      assertThat(guard.at("/spec/matchConditions/0/expression").asText())
          .isEqualTo("request.userInfo.username == 'system:serviceaccount:ops:sg-schemagate'");
      assertThat(guard.at("/spec/matchConstraints/resourceRules/0/operations").toString())
          .isEqualTo("[\"UPDATE\"]");
      assertThat(
              named(
                      ofKind(docs, "ValidatingAdmissionPolicyBinding"),
                      "sg-schemagate-pod-gate-guard")
                  .at("/spec/validationActions")
                  .toString())
          .isEqualTo("[\"Deny\"]");
    }
  }

  @Test
  void pauseOnlyNeedsNoAdmissionHookAndAdmissionWithoutOneIsRefused() throws Exception {
    List<JsonNode> docs =
        render("--set", "gate.admission.via=none", "--set", "gate.defaultMode=Pause");
    assertThat(ofKind(docs, "MutatingWebhookConfiguration")).isEmpty();
    assertThat(ofKind(docs, "MutatingAdmissionPolicy")).isEmpty();
    assertThat(ofKind(docs, "ValidatingAdmissionPolicy"))
        .as("the operator's own guards only: no pod is gated, none guarded")
        .extracting(p -> p.at("/metadata/name").asText())
        .containsExactly(
            "sg-schemagate-operator-jobs",
            "sg-schemagate-operator-jobs-namespace",
            "sg-schemagate-operator-deployments",
            "sg-schemagate-operator-configmaps");
    Tools.Result refused =
        Tools.helm(
            "template", "sg", Tools.released().toString(), "--set", "gate.admission.via=none");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.err()).contains("gate.admission.via is none: set gate.defaultMode=Pause");
    Tools.Result noPolicy =
        Tools.helm(
            "template", "sg", Tools.released().toString(), "--set", "gate.admission.via=policy");
    assertThat(noPolicy.exit()).isNotZero();
    assertThat(noPolicy.err())
        .contains("serves no MutatingAdmissionPolicy", "gate.admission.via=webhook");
  }

  /**
   * The operator's rules without the pod patch it needs only to lift the gate, and without the
   * ReplicaSets it wakes only on the webhook path.
   */
  static JsonNode rulesWithoutPodPatch() throws Exception {
    return rulesWithout(rulesWithout(YAML.readTree(RULES), "pods", "[\"patch\"]"), "replicasets");
  }

  /** The operator's rules on the policy path: no ReplicaSet to wake (no webhook to wait for). */
  static JsonNode rulesOfThePolicyPath() throws Exception {
    return rulesWithout(YAML.readTree(RULES), "replicasets");
  }

  static JsonNode rulesWithout(JsonNode all, String resource, String... verbs) {
    var rules = (com.fasterxml.jackson.databind.node.ArrayNode) all.deepCopy();
    for (int i = 0; i < rules.size(); i++) {
      JsonNode rule = rules.get(i);
      if (rule.path("resources").toString().equals("[\"" + resource + "\"]")
          && (verbs.length == 0 || rule.path("verbs").toString().equals(verbs[0]))) {
        rules.remove(i);
        return rules;
      }
    }
    throw new AssertionError("no rule for " + resource + " in " + rules);
  }

  /**
   * On the webhook path the operator may list and patch ReplicaSets, and its policy lets it change
   * only its own annotation (it wakes those whose pods were refused while no replica answered); on
   * the policy path it has neither.
   */
  @Test
  void onlyOnTheWebhookPathMayTheOperatorWakeReplicaSets() throws Exception {
    JsonNode policy =
        named(ofKind(render(), "ValidatingAdmissionPolicy"), "sg-schemagate-operator-replicasets");
    assertThat(policy.at("/spec/validations/0/expression").asText())
        .contains("request.operation == 'UPDATE'", "object.spec == oldObject.spec")
        .contains("k == 'schemagate.dev/nudged-at'");
    assertThat(policy.at("/spec/validations/0/message").asText())
        .contains("may change only its own annotation (schemagate.dev/nudged-at) of a ReplicaSet");
    List<JsonNode> docs = render(POLICY);
    JsonNode expected = rulesOfThePolicyPath();
    assertThat(operatorRoles(docs))
        .singleElement()
        .satisfies(r -> assertThat(r.path("rules")).isEqualTo(expected));
    assertThat(ofKind(docs, "ValidatingAdmissionPolicy"))
        .noneSatisfy(
            p -> assertThat(p.at("/metadata/name").asText()).endsWith("operator-replicasets"));
  }

  @Test
  void withNoAdmissionHookTheOperatorMayPatchNoPod() throws Exception {
    JsonNode expected = rulesWithoutPodPatch();
    List<JsonNode> cluster =
        render("--set", "gate.admission.via=none", "--set", "gate.defaultMode=Pause");
    assertThat(operatorRoles(cluster))
        .singleElement()
        .satisfies(r -> assertThat(r.path("rules")).isEqualTo(expected));
    List<String> namespaced = new ArrayList<>(List.of(NAMESPACED));
    namespaced.addAll(
        List.of("--set", "gate.admission.via=none", "--set", "gate.defaultMode=Pause"));
    List<JsonNode> roles =
        ofKind(render(namespaced.toArray(String[]::new)), "Role").stream()
            .filter(r -> r.at("/metadata/name").asText().equals("sg-schemagate"))
            .toList();
    assertThat(roles).hasSize(2);
    assertThat(roles).allSatisfy(r -> assertThat(r.path("rules")).isEqualTo(expected));
  }

  /**
   * Where RBAC cannot say it, admission does: the operator's service account writes Jobs only of
   * its own shape (the service accounts of the chart's policy) and only where a DatabaseMigration
   * is, Deployments only spec.paused and its held-by annotation, ConfigMaps only its plan's.
   */
  @Test
  void theOperatorsIdentityIsNarrowedByAdmissionPolicies() throws Exception {
    for (String[] values :
        List.of(
            new String[] {"--set", "policy.allowedServiceAccounts={default,migrator}"},
            new String[] {
              "--set",
              "policy.allowedServiceAccounts={default,migrator}",
              "--set",
              "watch.mode=namespaces",
              "--set",
              "watch.namespaces={shop}"
            })) {
      List<JsonNode> docs = render(values);
      List<JsonNode> policies = ofKind(docs, "ValidatingAdmissionPolicy");
      List<JsonNode> bindings = ofKind(docs, "ValidatingAdmissionPolicyBinding");
      Map<String, String> operations =
          Map.of(
              "jobs", "[\"CREATE\",\"UPDATE\",\"DELETE\"]",
              "deployments", "[\"UPDATE\"]",
              "configmaps", "[\"CREATE\",\"UPDATE\"]",
              "replicasets", "[\"CREATE\",\"UPDATE\",\"DELETE\"]");
      operations.forEach(
          (resource, ops) -> {
            JsonNode policy = named(policies, "sg-schemagate-operator-" + resource);
            assertThat(policy.at("/spec/matchConditions/0/expression").asText())
                .isEqualTo(
                    "request.userInfo.username == 'system:serviceaccount:ops:sg-schemagate'");
            assertThat(policy.at("/spec/failurePolicy").asText()).isEqualTo("Fail");
            JsonNode rule = policy.at("/spec/matchConstraints/resourceRules/0");
            assertThat(rule.path("resources").toString()).isEqualTo("[\"" + resource + "\"]");
            assertThat(rule.path("operations").toString()).isEqualTo(ops);
            assertThat(
                    named(bindings, "sg-schemagate-operator-" + resource)
                        .at("/spec/validationActions")
                        .toString())
                .isEqualTo("[\"Deny\"]");
          });
      JsonNode jobs = named(policies, "sg-schemagate-operator-jobs");
      assertThat(jobs.at("/spec/paramKind").isMissingNode())
          .as("the shape of the operator's Jobs needs no params: it holds in every namespace")
          .isTrue();
      assertThat(
              named(bindings, "sg-schemagate-operator-jobs").at("/spec/paramRef").isMissingNode())
          .isTrue();
      // the namespace rule looks its params up before any matchCondition, so it must match only
      // Jobs labelled as the operator's: a plain Job in a namespace without a DatabaseMigration is
      // never refused
      JsonNode namespaced = named(policies, "sg-schemagate-operator-jobs-namespace");
      assertThat(namespaced.at("/spec/paramKind/kind").asText()).isEqualTo("DatabaseMigration");
      assertThat(namespaced.at("/spec/matchConstraints/objectSelector").toString())
          .isEqualTo(
              "{\"matchLabels\":{\"app.kubernetes.io/managed-by\":\"schemagate\"},"
                  + "\"matchExpressions\":[{\"key\":\"schemagate.dev/run-id\",\"operator\":\"Exists\"}]}");
      assertThat(
              named(bindings, "sg-schemagate-operator-jobs-namespace")
                  .at("/spec/paramRef")
                  .toString())
          .isEqualTo("{\"selector\":{},\"parameterNotFoundAction\":\"Deny\"}");
      assertThat(jobs.at("/spec/variables").toString())
          .contains(
              "{\"name\":\"allowedServiceAccounts\",\"expression\":\"[\\\"default\\\",\\\"migrator\\\"]\"}");
      assertThat(jobs.at("/spec/validations").toString())
          .contains(
              "may mount only emptyDir volumes",
              "may run no privileged container",
              "may not use the node's network, PID or IPC namespace",
              "may not mount a service account token",
              "policy.allowedServiceAccounts allows",
              "may change only the owner references of its own Jobs");
      assertThat(
              named(policies, "sg-schemagate-operator-deployments")
                  .at("/spec/validations")
                  .toString())
          .contains("may change only spec.paused", "schemagate.dev/held-by");
      assertThat(
              named(policies, "sg-schemagate-operator-configmaps")
                  .at("/spec/validations")
                  .toString())
          .contains("may write only its own plan ConfigMaps");
    }
  }

  /**
   * Only the operator lifts the scheduling gate; a group the admin names may too; the guard binds
   * where pods are gated (the watched namespaces), and is not rendered where none is.
   */
  @Test
  void onlyTheOperatorOrAnAllowedGroupMayLiftTheGate() throws Exception {
    JsonNode guard =
        named(ofKind(render(), "ValidatingAdmissionPolicy"), "sg-schemagate-gate-lift-guard");
    assertThat(guard.at("/spec/matchConditions/0/expression").asText())
        .contains("oldObject.spec.schedulingGates.exists(g, g.name == 'schemagate.dev/migration')");
    assertThat(guard.at("/spec/validations/0/expression").asText())
        .isEqualTo(
            "request.userInfo.username == 'system:serviceaccount:ops:sg-schemagate' ||"
                + " (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in []))");
    assertThat(guard.at("/spec/validations/0/message").asText())
        .startsWith(
            "only the schemagate operator may remove the scheduling gate schemagate.dev/migration");

    List<String> values = new ArrayList<>(List.of(NAMESPACED));
    values.addAll(List.of("--set", "gate.liftAllowedGroups={ops-admins}"));
    List<JsonNode> docs = render(values.toArray(String[]::new));
    assertThat(
            named(ofKind(docs, "ValidatingAdmissionPolicy"), "sg-schemagate-gate-lift-guard")
                .at("/spec/validations/0/expression")
                .asText())
        .endsWith("g in [\"ops-admins\"]))");
    assertThat(
            named(ofKind(docs, "ValidatingAdmissionPolicyBinding"), "sg-schemagate-gate-lift-guard")
                .at("/spec/matchResources/namespaceSelector/matchExpressions/0/values")
                .toString())
        .isEqualTo("[\"shop\",\"billing\"]");

    assertThat(
            ofKind(
                render("--set", "gate.admission.via=none", "--set", "gate.defaultMode=Pause"),
                "ValidatingAdmissionPolicy"))
        .noneSatisfy(p -> assertThat(p.at("/metadata/name").asText()).endsWith("gate-lift-guard"));
  }

  @Test
  void theValuesSchemaRejectsWrongTypesAndUnknownKeys() throws Exception {
    Tools.Result wrongType =
        Tools.helm("template", "sg", Tools.released().toString(), "--set", "replicaCount=two");
    assertThat(wrongType.exit()).isNotZero();
    assertThat(wrongType.err()).contains("'/replicaCount': got string, want integer");
    Tools.Result unknown =
        Tools.helm("template", "sg", Tools.released().toString(), "--set", "replicas=3");
    assertThat(unknown.exit()).isNotZero();
    assertThat(unknown.err()).contains("additional properties 'replicas' not allowed");
    Tools.Result badMode =
        Tools.helm("template", "sg", Tools.released().toString(), "--set", "watch.mode=everywhere");
    assertThat(badMode.exit()).isNotZero();
    assertThat(badMode.err())
        .contains("'/watch/mode': value must be one of 'cluster', 'namespaces'");
  }

  @Test
  void theChartsCrdIsTheCommittedOne() throws Exception {
    String file = "databasemigrations.schemagate.dev-v1.yml";
    assertThat(Files.readString(Tools.CHART.resolve("crds").resolve(file)))
        .as("charts/schemagate/crds/%s differs from crds/%s: copy it over", file, file)
        .isEqualTo(Files.readString(Tools.ROOT.resolve("crds").resolve(file)));
  }

  @Test
  void appVersionIsTheOperatorsVersion() throws Exception {
    JsonNode chart = YAML.readTree(Tools.CHART.resolve("Chart.yaml").toFile());
    String pom = Files.readString(Tools.ROOT.resolve("pom.xml"));
    String version = pom.substring(pom.indexOf("<version>") + 9, pom.indexOf("</version>"));
    assertThat(chart.path("appVersion").asText()).isEqualTo(version);
  }
}
