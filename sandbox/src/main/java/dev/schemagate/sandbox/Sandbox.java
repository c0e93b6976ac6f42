package dev.schemagate.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a first look at schemagate needs, without a cluster: a real PostgreSQL, the embedded
 * API server with the CRD, the Job executor, the Deployment controller, and the operator's own
 * process. The end-to-end suite runs on it too.
 */
public final class Sandbox implements AutoCloseable {
  public final Path home;
  public final Path work;
  public final Database database;
  public final ApiServer api;
  public final ImageMap images = new ImageMap();
  public final JobExecutor jobs;
  public final DeploymentController deployments;
  public final Path kubeconfig;
  private final Map<String, String> operatorEnv = new LinkedHashMap<>();
  private OperatorProcess operator;

  private Sandbox(Path home, Path work, Database database) throws IOException {
    this.home = home;
    this.work = work;
    this.database = database;
    this.api = new ApiServer(home.resolve("crds/databasemigrations.schemagate.dev-v1.yml"));
    this.kubeconfig = api.writeKubeconfig(work.resolve("kubeconfig"));
    Map<String, String> base = new LinkedHashMap<>();
    base.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    base.put("HOME", work.toString());
    base.put("LANG", "C.UTF-8");
    base.put("TMPDIR", Files.createDirectories(work.resolve("tmp")).toString());
    this.jobs = new JobExecutor(api.client(), images, Files.createDirectories(work.resolve("pods")), base);
    this.deployments = new DeploymentController(api.client());
  }

  /** Starts all but the operator; {@link #startOperator()} starts that. */
  public static Sandbox start(Path home, Path work, String externalDatabaseUrl) throws IOException {
    Files.createDirectories(work);
    Database db = externalDatabaseUrl == null || externalDatabaseUrl.isBlank()
        ? Database.embedded(work.resolve("postgres"))
        : Database.external(externalDatabaseUrl);
    Sandbox sandbox = new Sandbox(home, work, db);
    sandbox.deployments.start();
    sandbox.jobs.start();
    return sandbox;
  }

  public KubernetesClient client() {
    return api.client();
  }

  public Path runnerJar() {
    return home.resolve("migrations-image/target/schemagate-runner.jar");
  }

  public Path operatorJar() {
    return home.resolve("operator/target/quarkus-app/quarkus-run.jar");
  }

  /** Maps an image to the schemagate runner with its SQL in a directory: a "FROM runner" image. */
  public void mapRunnerImage(String image, Path sql) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    images.map(image, new ImageMap.LocalImage(List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", runnerJar().toString()),
        work, Map.of("SCHEMAGATE_LOCATIONS", sql.toString(), "SCHEMAGATE_CONNECT_RETRIES", "2")));
  }

  public Sandbox operatorEnv(String name, String value) {
    operatorEnv.put(name, value);
    return this;
  }

  /** Starts the operator's process and waits until its controller is reconciling. */
  public OperatorProcess startOperator() throws IOException, InterruptedException {
    operator = new OperatorProcess(operatorJar(), kubeconfig, work.resolve("operator.log"), operatorEnv).start();
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (!operator.log().contains("started in")) {
      if (!operator.isAlive() || Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("the operator did not start:\n" + operator.log());
      }
      Thread.sleep(50);
    }
    return operator;
  }

  public OperatorProcess operator() {
    return operator;
  }

  @Override
  public void close() throws Exception {
    if (operator != null) {
      operator.close();
    }
    jobs.close();
    deployments.close();
    api.close();
    database.close();
  }
}
