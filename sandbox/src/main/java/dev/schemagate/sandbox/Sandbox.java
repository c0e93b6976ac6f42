package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a look at schemagate needs, without a cluster of one's own: a real PostgreSQL, a
 * Kubernetes ({@link Cluster}: the embedded one, or a real control plane with the sandbox's
 * kubelet), and the operator. The demo and the end-to-end suite run on it.
 */
public final class Sandbox implements AutoCloseable {
  /** Which Kubernetes the sandbox runs on. */
  public enum Kind {
    /** The fabric8 mock API server with a local Job executor: starts in a second. */
    EMBEDDED,
    /** etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the sandbox's kubelet. */
    REAL
  }

  public final Path home;
  public final Path work;
  public final Database database;
  public final ImageMap images = new ImageMap();
  public final Cluster cluster;
  public final Path kubeconfig;
  private final Map<String, String> operatorEnv = new LinkedHashMap<>();
  private String chartValues = "";
  private int operatorReplicas = 1;
  private final Map<String, String> operatorValues = new LinkedHashMap<>();
  private Operator operator;

  private Sandbox(Path home, Path work, Database database, Kind kind)
      throws IOException, InterruptedException {
    this.home = home;
    this.work = work;
    this.database = database;
    Map<String, String> base = new LinkedHashMap<>();
    base.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
    base.put("HOME", work.toString());
    base.put("LANG", "C.UTF-8");
    base.put("TMPDIR", Files.createDirectories(work.resolve("tmp")).toString());
    this.cluster =
        kind == Kind.REAL
            ? RealCluster.start(home, work, images, base)
            : new MockCluster(home, work, images, base);
    this.kubeconfig = cluster.kubeconfig();
  }

  /** The embedded sandbox. */
  public static Sandbox start(Path home, Path work, String externalDatabaseUrl)
      throws IOException, InterruptedException {
    return start(home, work, externalDatabaseUrl, Kind.EMBEDDED);
  }

  /** Starts all but the operator; {@link #startOperator()} starts that. */
  public static Sandbox start(Path home, Path work, String externalDatabaseUrl, Kind kind)
      throws IOException, InterruptedException {
    Files.createDirectories(work);
    Database db =
        externalDatabaseUrl == null || externalDatabaseUrl.isBlank()
            ? Database.embedded(work.resolve("postgres"))
            : Database.external(externalDatabaseUrl);
    try {
      return new Sandbox(home, work, db, kind);
    } catch (IOException | InterruptedException | RuntimeException e) {
      db.close();
      throw e;
    }
  }

  public KubernetesClient client() {
    return cluster.client();
  }

  /** The embedded cluster's pieces (the benchmarks count its requests); fails on a real one. */
  public MockCluster mock() {
    if (cluster instanceof MockCluster mock) {
      return mock;
    }
    throw new IllegalStateException("this sandbox runs on a real control plane");
  }

  /** The real control plane and its kubelet; fails on the embedded one. */
  public RealCluster real() {
    if (cluster instanceof RealCluster real) {
      return real;
    }
    throw new IllegalStateException("this sandbox runs on the embedded API server");
  }

  public Path runnerJar() {
    return home.resolve("migrations-image/target/schemagate-runner.jar");
  }

  public Path operatorJar() {
    return home.resolve("operator/target/quarkus-app/quarkus-run.jar");
  }

  /**
   * Creates a namespace, as a person would before using it (the embedded API server needs none).
   */
  public void namespace(String name) {
    if (cluster instanceof RealCluster && client().namespaces().withName(name).get() == null) {
      client()
          .namespaces()
          .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
  }

  /** Maps an image to the schemagate runner with its SQL in a directory: a "FROM runner" image. */
  public void mapRunnerImage(String image, Path sql) {
    mapRunnerImage(image, sql, ImageMap.NON_ROOT);
  }

  /**
   * The same, with the user its image config declares: "" for root, or a name (the user of a plain
   * {@code FROM python} image is root; one with {@code USER app} declares a name).
   */
  public void mapRunnerImage(String image, Path sql, String user) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    images.map(
        image,
        new ImageMap.LocalImage(
            List.of(
                java,
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-jar",
                runnerJar().toString()),
            work,
            Map.of("SCHEMAGATE_LOCATIONS", sql.toString(), "SCHEMAGATE_CONNECT_RETRIES", "2"),
            user));
  }

  /** Maps an app's image to a process that idles until it is stopped, as a server would. */
  public void mapIdleImage(String image) {
    images.map(image, new ImageMap.LocalImage(List.of("sleep", "infinity"), work, Map.of()));
  }

  public Sandbox operatorEnv(String name, String value) {
    operatorEnv.put(name, value);
    return this;
  }

  /**
   * More values for the chart the operator is installed with on the real control plane (YAML, such
   * as its policy); the embedded API server's operator gets none.
   */
  public Sandbox chartValues(String yaml) {
    chartValues = yaml.endsWith("\n") ? yaml : yaml + "\n";
    return this;
  }

  String chartValues() {
    return chartValues;
  }

  /** How many replicas of the operator the chart runs on the real control plane (1 unless set). */
  public Sandbox operatorReplicas(int replicas) {
    operatorReplicas = replicas;
    return this;
  }

  /** A value of the operator's chart (helm install --set), on the real control plane. */
  public Sandbox operatorValue(String key, String value) {
    operatorValues.put(key, value);
    return this;
  }

  Map<String, String> operatorValues() {
    return Map.copyOf(operatorValues);
  }

  int operatorReplicas() {
    return operatorReplicas;
  }

  Map<String, String> operatorEnv() {
    return Map.copyOf(operatorEnv);
  }

  /** Starts the operator (again) and waits until its controller is reconciling. */
  public Operator startOperator() throws Exception {
    if (operator == null) {
      operator = cluster.operator(this);
    }
    return operator.start();
  }

  public Operator operator() {
    return operator;
  }

  /** Stops everything, each part even when another fails to stop. */
  @Override
  public void close() throws Exception {
    Exception first = null;
    for (AutoCloseable part : new AutoCloseable[] {operator, cluster, database}) {
      try {
        if (part != null) {
          part.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
