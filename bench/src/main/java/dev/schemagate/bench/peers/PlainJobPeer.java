package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A migration Job before the rollout, as a Helm hook or an Argo CD PreSync hook runs it: {@code
 * kubectl apply} of a Job running the set's runner image, {@code kubectl wait
 * --for=condition=complete}, then {@code kubectl set image} of the app. No controller of its own:
 * the lower bound of any design that migrates in a Job.
 */
public final class PlainJobPeer implements Peer {
  static final String DEPLOYER = "deployer";

  private double cpu;
  private String user;
  private Path kubeconfig;

  @Override
  public String name() {
    return "plain Job (Helm hook / PreSync)";
  }

  @Override
  public void install(Sandbox sandbox) {}

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
    Path manifest = sandbox.work.resolve("peers/" + namespace + "-job.yaml");
    Files.createDirectories(manifest.getParent());
    Files.writeString(
        manifest,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Secret",
            "metadata: {name: db}",
            "stringData: {DATABASE_URL: \"" + sandbox.database.url(database) + "\"}",
            "---",
            "apiVersion: batch/v1",
            "kind: Job",
            "metadata: {name: migrate}",
            "spec:",
            "  backoffLimit: 0",
            "  template:",
            "    spec:",
            "      restartPolicy: Never",
            "      containers:",
            "      - name: migrate",
            "        image: " + image,
            "        envFrom: [{secretRef: {name: db}}]",
            "        env: [{name: SCHEMAGATE_TARGET_REVISION, value: \"" + set.count() + "\"}]",
            ""));
    cpu = 0;
    deployer(sandbox, namespace);
    try (Watch<Job> complete =
            Watch.until(
                sandbox.client().batch().v1().jobs().inNamespace(namespace).withName("migrate"),
                "Job migrate Complete",
                PlainJobPeer::complete);
        Watch<Deployment> serving = Rollout.serving(sandbox, namespace, app, appImage)) {
      Instant applied = Instant.now();
      kubectl(sandbox, namespace, "apply", "-f", manifest.toString());
      kubectl(
          sandbox, namespace, "wait", "--for=condition=complete", "--timeout=300s", "job/migrate");
      kubectl(sandbox, namespace, "set", "image", "deployment/" + app, "app=" + appImage);
      Instant migrated = complete.await(Duration.ofMinutes(5));
      return new Round(applied, migrated, serving.await(Duration.ofMinutes(5)));
    }
  }

  /**
   * The identity kubectl applies with, as a CI pipeline's: a service account of the namespace bound
   * to the cluster's {@code edit} role, its token in a kubeconfig of its own (the API server audits
   * service accounts' requests: they are counted as the operator's are).
   */
  private void deployer(Sandbox sandbox, String namespace) throws Exception {
    var client = sandbox.client();
    client
        .serviceAccounts()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.ServiceAccountBuilder()
                .withNewMetadata()
                .withName(DEPLOYER)
                .endMetadata()
                .build())
        .create();
    client
        .rbac()
        .roleBindings()
        .inNamespace(namespace)
        .resource(
            new io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder()
                .withNewMetadata()
                .withName(DEPLOYER)
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "edit")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(DEPLOYER)
                .withNamespace(namespace)
                .endSubject()
                .build())
        .create();
    String token =
        client
            .serviceAccounts()
            .inNamespace(namespace)
            .withName(DEPLOYER)
            .tokenRequest(
                new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder()
                    .withNewSpec()
                    .withExpirationSeconds(3600L)
                    .endSpec()
                    .build())
            .getStatus()
            .getToken();
    java.util.regex.Matcher ca =
        java.util.regex.Pattern.compile("certificate-authority-data: (\\S+)")
            .matcher(Files.readString(sandbox.kubeconfig));
    if (!ca.find()) {
      throw new IllegalStateException("no certificate-authority-data in " + sandbox.kubeconfig);
    }
    kubeconfig = sandbox.work.resolve("peers/" + namespace + ".kubeconfig");
    Files.writeString(
        kubeconfig,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: sandbox",
            "  cluster: {server: \""
                + sandbox.cluster.url()
                + "\", certificate-authority-data: "
                + ca.group(1)
                + "}",
            "users:",
            "- name: " + DEPLOYER,
            "  user: {token: \"" + token + "\"}",
            "contexts:",
            "- name: sandbox",
            "  context: {cluster: sandbox, user: " + DEPLOYER + ", namespace: " + namespace + "}",
            "current-context: sandbox",
            ""));
    user = "system:serviceaccount:" + namespace + ":" + DEPLOYER;
  }

  static boolean complete(Job job) {
    return job.getStatus() != null
        && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream()
            .anyMatch(c -> "Complete".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private void kubectl(Sandbox sandbox, String namespace, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                sandbox.real().kubectl().toString(),
                "--kubeconfig",
                kubeconfig.toString(),
                "--namespace",
                namespace));
    command.addAll(List.of(args));
    cpu +=
        Timed.run(sandbox.work.resolve("peers"), command, Map.of())
            .ok("kubectl " + String.join(" ", args))
            .cpuSeconds();
  }

  @Override
  public void rest(Sandbox sandbox, String namespace, int count) {}

  @Override
  public Optional<String> controllerPod(Sandbox sandbox) {
    return Optional.empty();
  }

  /** The last round's deployer (a service account of its namespace). */
  @Override
  public Optional<String> apiUser() {
    return Optional.ofNullable(user);
  }

  /** The CPU of its kubectl commands (a CI runner's, not the cluster's). */
  @Override
  public double processCpuSeconds() {
    return cpu;
  }
}
