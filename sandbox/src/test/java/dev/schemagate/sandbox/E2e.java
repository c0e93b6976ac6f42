package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.sandbox.cluster.ContainerEvents;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One scenario's world on the shared sandbox: its namespace and database, and short ways to read
 * what a user would see. On failure, prints what a person would look at.
 */
final class E2e {
  static Sandbox sandbox;

  /**
   * The suite runs on the real control plane; -Dschemagate.sandbox=embedded runs it on the mock API
   * server.
   */
  static final Sandbox.Kind KIND =
      "embedded".equals(System.getProperty("schemagate.sandbox"))
          ? Sandbox.Kind.EMBEDDED
          : Sandbox.Kind.REAL;

  static final Path HOME =
      Path.of(System.getProperty("schemagate.home", "..")).toAbsolutePath().normalize();

  /** The images the suite's migrations use: the policy the suite's operator is installed with. */
  static final List<String> ALLOWED_IMAGES = List.of("e2e/*", "registry.example.com/*");

  /**
   * The group the suite's chart lets remove the scheduling gate by hand (gate.liftAllowedGroups).
   */
  static final String BREAK_GLASS = "e2e-break-glass";

  /**
   * The chart values of that policy: those images, two service accounts, custom commands; and the
   * group that may remove the scheduling gate by hand.
   */
  static final String POLICY =
      "policy:\n"
          + "  allowedImages: ["
          + ALLOWED_IMAGES.stream().map(i -> "\"" + i + "\"").collect(Collectors.joining(", "))
          + "]\n"
          + "  allowedServiceAccounts: [default, e2e-migrator]\n"
          + "  allowCustomCommands: true\n"
          + "gate:\n"
          + "  liftAllowedGroups: ["
          + BREAK_GLASS
          + "]\n";

  final String ns = "e2e-" + UUID.randomUUID().toString().substring(0, 6);
  final String database = "db_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  /** The sandbox this world lives on: the suite's shared one unless given. */
  final Sandbox on;

  E2e() {
    this(sandbox);
  }

  E2e(Sandbox on) {
    this.on = on;
    on.namespace(ns);
  }

  static synchronized Sandbox sandbox() throws Exception {
    if (sandbox == null) {
      Path work = HOME.resolve("sandbox/target/e2e");
      Demo.clean(work);
      sandbox = Sandbox.start(HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), KIND);
      // the SDK's own lifecycle (leadership, informers) in the operator's log, for the reports
      sandbox.operatorEnv("QUARKUS_LOG_CATEGORY__IO_JAVAOPERATORSDK__LEVEL", "INFO");
      if (KIND == Sandbox.Kind.REAL) {
        sandbox.chartValues(POLICY);
      } else {
        sandbox.operatorEnv("SCHEMAGATE_POLICY_ALLOWED_IMAGES", String.join(",", ALLOWED_IMAGES));
        sandbox.operatorEnv("SCHEMAGATE_POLICY_ALLOWED_SERVICE_ACCOUNTS", "default,e2e-migrator");
      }
      sandbox.startOperator();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      sandbox.close();
                    } catch (Exception ignored) {
                      // the JVM is going away
                    }
                  }));
    }
    return sandbox;
  }

  KubernetesClient client() {
    return on.client();
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100));
  }

  /** A directory of SQL, mapped as the runner image of that name. */
  static String runnerImage(String name, Map<String, String> files) throws Exception {
    return runnerImage(sandbox, name, files);
  }

  static String runnerImage(Sandbox sandbox, String name, Map<String, String> files)
      throws Exception {
    return runnerImage(sandbox, name, files, ImageMap.NON_ROOT);
  }

  /** The same, as an image whose config declares this user ("" for root, or a name). */
  static String runnerImage(Sandbox sandbox, String name, Map<String, String> files, String user)
      throws Exception {
    Path dir = sandbox.work.resolve("images").resolve(name.replaceAll("[^a-z0-9]", "-"));
    Files.createDirectories(dir);
    for (var f : files.entrySet()) {
      Files.writeString(dir.resolve(f.getKey()), f.getValue());
    }
    return sandbox.runnerImage(name, dir, user);
  }

  /** The chart installed the gate as the operator's webhook, and no admission policy beside it. */
  static void assertGateIsTheWebhook(Sandbox sandbox) {
    assertThat(
            sandbox
                .client()
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("schemagate-rollout-gate")
                .get())
        .as("the chart installed the webhook")
        .isNotNull();
    assertThat(
            sandbox
                .client()
                .genericKubernetesResources(
                    "admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                .withName("schemagate-rollout-gate")
                .get())
        .as("and no admission policy")
        .isNull();
  }

  static Map<String, String> exampleMigrations() throws Exception {
    Map<String, String> files = new LinkedHashMap<>();
    try (Stream<Path> list = Files.list(HOME.resolve("migrations-image/examples/app_user"))) {
      for (Path f : list.toList()) {
        files.put(f.getFileName().toString(), Files.readString(f));
      }
    }
    return files;
  }

  E2e createDatabase() throws Exception {
    on.database.create(database);
    return this;
  }

  void secret(String name, String databaseUrl) {
    client()
        .secrets()
        .inNamespace(ns)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addToStringData("DATABASE_URL", databaseUrl)
                .build())
        .create();
  }

  /** A Deployment (2 replicas) of an app that idles: an image of its own name. */
  void deployment(String name, String image) throws Exception {
    on.idleImage(image);
    create(deployment(name, new ContainerBuilder().withName("app").withImage(image).build()));
  }

  /**
   * A Deployment of a real app (2 replicas): its image, the database Secret's keys as its
   * environment, serving HTTP on the port, ready once it answers there.
   */
  void app(String name, String image, String secret, int port) {
    create(
        deployment(
            name,
            new ContainerBuilder()
                .withName("app")
                .withImage(image)
                .addNewEnvFrom()
                .withNewSecretRef()
                .withName(secret)
                .endSecretRef()
                .endEnvFrom()
                .addNewPort()
                .withContainerPort(port)
                .endPort()
                .withNewReadinessProbe()
                .withNewTcpSocket()
                .withNewPort(port)
                .endTcpSocket()
                .withPeriodSeconds(1)
                .endReadinessProbe()
                .build()));
  }

  /** A Deployment of two replicas of one container, its pods labelled app=NAME. */
  static Deployment deployment(String name, Container container) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withReplicas(2)
        .withNewSelector()
        .addToMatchLabels("app", name)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .withContainers(container)
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private void create(Deployment deployment) {
    client().apps().deployments().inNamespace(ns).resource(deployment).create();
  }

  /** The address of a ready pod of the Deployment, once one is (CNI gave it). */
  String servingPod(String deployment) {
    String[] ip = new String[1];
    eventually()
        .until(
            () ->
                client()
                    .pods()
                    .inNamespace(ns)
                    .withLabel("app", deployment)
                    .list()
                    .getItems()
                    .stream()
                    .filter(
                        p ->
                            p.getStatus().getConditions().stream()
                                .anyMatch(
                                    c ->
                                        "Ready".equals(c.getType())
                                            && "True".equals(c.getStatus())))
                    .map(p -> ip[0] = p.getStatus().getPodIP())
                    .findFirst()
                    .isPresent());
    return ip[0];
  }

  static Map<String, Object> spec(String image, String target, String secret, String... gated) {
    Map<String, Object> spec = new HashMap<>();
    spec.put("image", image);
    spec.put("targetRevision", target);
    spec.put("database", Map.of("secretRef", Map.of("name", secret)));
    spec.put("gate", Map.of("deployments", List.of(gated)));
    return spec;
  }

  void migration(String name, Map<String, Object> spec) {
    GenericKubernetesResource dbm = new GenericKubernetesResource();
    dbm.setApiVersion("schemagate.dev/v1alpha1");
    dbm.setKind("DatabaseMigration");
    dbm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    dbm.setAdditionalProperty("spec", spec);
    client().resource(dbm).inNamespace(ns).create();
  }

  /** Changes the spec, as kubectl edit does (again on a conflict with the operator's writes). */
  @SuppressWarnings("unchecked")
  void editSpec(String name, java.util.function.Consumer<Map<String, Object>> change) {
    Demo.retryOnConflict(
        () ->
            dbm(name)
                .edit(
                    d -> {
                      change.accept((Map<String, Object>) d.getAdditionalProperties().get("spec"));
                      return d;
                    }));
  }

  /** Changes a Deployment, as kubectl edit does (again on a conflict with another writer). */
  void editDeployment(String name, java.util.function.Consumer<Deployment> change) {
    Demo.retryOnConflict(
        () ->
            client()
                .apps()
                .deployments()
                .inNamespace(ns)
                .withName(name)
                .edit(
                    d -> {
                      change.accept(d);
                      return d;
                    }));
  }

  /** Runs kubectl on the sandbox in this namespace; it must succeed; its output. */
  String kubectl(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                on.real().kubectl().toString(),
                "--kubeconfig",
                on.kubeconfig.toString(),
                "--namespace",
                ns));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
    return out;
  }

  /** The Jobs of this namespace that run in this direction (upgrade, plan, check, ...). */
  List<Job> jobs(String direction) {
    return jobs().stream()
        .filter(
            j -> direction.equals(j.getMetadata().getAnnotations().get("schemagate.dev/direction")))
        .toList();
  }

  /** The reason of the Stalled condition, or null. */
  String stalled(String name) {
    Map<String, Object> c = condition(name, "Stalled");
    return "True".equals(c.get("status")) ? (String) c.get("reason") : null;
  }

  /** The messages of the Events with this reason. */
  List<String> events(String reason) {
    return events().stream()
        .filter(e -> reason.equals(e.getReason()))
        .map(Event::getMessage)
        .toList();
  }

  /** The pods of the namespace's Jobs. */
  List<io.fabric8.kubernetes.api.model.Pod> jobPods() {
    return client().pods().inNamespace(ns).withLabel("job-name").list().getItems();
  }

  Resource<GenericKubernetesResource> dbm(String name) {
    return client()
        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
        .inNamespace(ns)
        .withName(name);
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> status(String name) {
    GenericKubernetesResource r = dbm(name).get();
    Object status = r == null ? null : r.getAdditionalProperties().get("status");
    return status == null ? Map.of() : (Map<String, Object>) status;
  }

  String phase(String name) {
    return String.valueOf(status(name).get("phase"));
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> condition(String name, String type) {
    for (Map<String, Object> c :
        (List<Map<String, Object>>) status(name).getOrDefault("conditions", List.of())) {
      if (type.equals(c.get("type"))) {
        return c;
      }
    }
    return Map.of();
  }

  @SuppressWarnings("unchecked")
  List<Map<String, Object>> history(String name) {
    return (List<Map<String, Object>>) status(name).getOrDefault("history", List.of());
  }

  /** The end of a migration's successful run: its Job, and when its container exited with 0. */
  record MigrationEnded(String job, Instant at) {}

  /**
   * The successful run of {@code migration} to {@code revision}: its Job, and when its container
   * last exited with 0 (to the millisecond, from the kubelet's container events).
   */
  MigrationEnded migrationEnded(String migration, String revision) {
    Map<String, Object> run =
        history(migration).stream()
            .filter(
                h ->
                    revision.equals(h.get("targetRevision"))
                        && "Succeeded".equals(h.get("outcome")))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("no successful run of " + migration + " to " + revision));
    String job = String.valueOf(run.get("job"));
    Instant at =
        on.real().exits().stream()
            .filter(
                e -> e.namespace().equals(ns) && e.pod().startsWith(job + "-") && e.exitCode() == 0)
            .map(ContainerEvents.Exit::at)
            .max(Instant::compareTo)
            .orElseThrow(() -> new AssertionError("no successful exit of Job " + job));
    return new MigrationEnded(job, at);
  }

  /** The pods of the app (label app) that run this image and are not being deleted. */
  List<Pod> livePods(String app, String image) {
    return client().pods().inNamespace(ns).withLabel("app", app).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> image.equals(p.getSpec().getContainers().get(0).getImage()))
        .toList();
  }

  List<Job> jobs() {
    return client().batch().v1().jobs().inNamespace(ns).list().getItems();
  }

  List<Event> events() {
    return client().v1().events().inNamespace(ns).list().getItems();
  }

  List<String> eventReasons() {
    return events().stream().map(Event::getReason).collect(Collectors.toList());
  }

  boolean paused(String deployment) {
    return Boolean.TRUE.equals(
        client()
            .apps()
            .deployments()
            .inNamespace(ns)
            .withName(deployment)
            .get()
            .getSpec()
            .getPaused());
  }

  List<String> rows(String sql) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = on.database.connect(database);
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  /** Runs SQL on the world's database, as a person with psql would. */
  void execute(String sql) throws Exception {
    try (Connection c = on.database.connect(database)) {
      c.createStatement().execute(sql);
    }
  }

  String url() {
    return on.database.url(database);
  }

  /**
   * The operator's /metrics, from every running replica (on the real control plane; "" on the
   * embedded one, whose operator serves on a port of its own).
   */
  String metrics() throws Exception {
    if (!(on.cluster instanceof RealCluster)) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (var pod : client().pods().inNamespace(ChartOperator.NAMESPACE).list().getItems()) {
      String ip = pod.getStatus().getPodIP();
      if (ip == null || !"Running".equals(pod.getStatus().getPhase())) {
        continue;
      }
      out.append(
          http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://" + ip + ":8080/metrics"))
                      .timeout(Duration.ofSeconds(10))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body());
    }
    return out.toString();
  }

  /**
   * The secret is nowhere the operator writes or serves: the DatabaseMigrations' status, the
   * Events, the operator's log, its metrics; with {@code podsToo}, nor in the pods' status
   * (termination messages) and the Jobs' logs, which the migration tool writes.
   */
  void assertNowhere(String secret, boolean podsToo) throws Exception {
    List<String> places = new ArrayList<>();
    for (GenericKubernetesResource r :
        client()
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(ns)
            .list()
            .getItems()) {
      places.add(
          "status of "
              + r.getMetadata().getName()
              + ": "
              + client().getKubernetesSerialization().asJson(r.getAdditionalProperties()));
    }
    events().forEach(e -> places.add("event " + e.getReason() + ": " + e.getMessage()));
    places.add("operator log: " + (on.operator() == null ? "" : on.operator().log()));
    String metrics = metrics();
    if (on.cluster instanceof RealCluster) {
      org.assertj.core.api.Assertions.assertThat(metrics).contains("schemagate_runs_total");
    }
    places.add("metrics: " + metrics);
    if (podsToo) {
      for (var pod : client().pods().inNamespace(ns).list().getItems()) {
        places.add(
            "pod "
                + pod.getMetadata().getName()
                + " status: "
                + client().getKubernetesSerialization().asJson(pod.getStatus()));
        String job = pod.getMetadata().getLabels().get("job-name");
        if (job != null) {
          places.add("log of Job " + job + ": " + on.cluster.jobLog(ns, job));
        }
      }
    }
    for (String place : places) {
      org.assertj.core.api.Assertions.assertThat(
              dev.schemagate.redact.Redactor.contains(place, secret))
          .as(
              "the secret, in any encoding, in %s",
              place.substring(0, Math.min(place.length(), 3000)))
          .isFalse();
    }
  }

  /** What a person would look at. */
  String report() {
    StringBuilder out = new StringBuilder("\n==== namespace " + ns + " ====\n");
    for (GenericKubernetesResource r :
        client()
            .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
            .inNamespace(ns)
            .list()
            .getItems()) {
      out.append("-- DatabaseMigration ")
          .append(r.getMetadata().getName())
          .append(" status:\n")
          .append(
              client()
                  .getKubernetesSerialization()
                  .asYaml(r.getAdditionalProperties().get("status")))
          .append('\n');
    }
    out.append("-- pods:\n");
    for (var pod : client().pods().inNamespace(ns).list().getItems()) {
      out.append("  ")
          .append(pod.getMetadata().getName())
          .append(' ')
          .append(pod.getStatus().getPhase());
      if (pod.getStatus().getContainerStatuses() != null) {
        pod.getStatus()
            .getContainerStatuses()
            .forEach(
                c ->
                    out.append(' ')
                        .append(c.getName())
                        .append('=')
                        .append(client().getKubernetesSerialization().asJson(c.getState())));
      }
      out.append('\n');
    }
    out.append("-- events:\n");
    events()
        .forEach(
            e ->
                out.append("  ")
                    .append(e.getType())
                    .append(' ')
                    .append(e.getReason())
                    .append(": ")
                    .append(e.getMessage())
                    .append('\n'));
    for (Job job : jobs()) {
      out.append("-- logs of Job ")
          .append(job.getMetadata().getName())
          .append(":\n")
          .append(on.cluster.jobLog(ns, job.getMetadata().getName()))
          .append('\n');
    }
    String log = on.operator() == null ? "" : on.operator().log();
    out.append("-- operator log (tail):\n").append(log.substring(Math.max(0, log.length() - 4000)));
    return out.toString();
  }

  /**
   * Prints the report of the test's world when the test fails; on the real control plane, fails a
   * test during which the API server refused the operator a request (the chart's RBAC too narrow)
   * or the operator listed a resource unpaged.
   */
  static final class Reporter
      implements TestWatcher, org.junit.jupiter.api.extension.AfterEachCallback {
    @Override
    public void afterEach(ExtensionContext context) throws Exception {
      Sandbox on = world(context).map(w -> w.on).orElse(sandbox);
      if (on != null && on.cluster instanceof RealCluster real) {
        RealCluster.AuditFindings audit = real.findings(ChartOperator.USER);
        if (!audit.refused().isEmpty()) {
          throw new AssertionError(
              "the API server refused the operator (the chart's RBAC): " + audit.refused());
        }
        if (!audit.unpaged().isEmpty()) {
          throw new AssertionError("the operator listed without a limit: " + audit.unpaged());
        }
      }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      world(context).ifPresent(w -> System.out.println(w.report()));
    }

    private static java.util.Optional<E2e> world(ExtensionContext context) {
      return context
          .getTestInstance()
          .map(
              instance -> {
                // the field may be declared by a class of scenarios the test extends
                for (Class<?> c = instance.getClass(); c != null; c = c.getSuperclass()) {
                  try {
                    var field = c.getDeclaredField("world");
                    field.setAccessible(true);
                    return (E2e) field.get(instance);
                  } catch (NoSuchFieldException e) {
                    // look in the superclass
                  } catch (ReflectiveOperationException e) {
                    return null;
                  }
                }
                return null;
              });
    }
  }
}
