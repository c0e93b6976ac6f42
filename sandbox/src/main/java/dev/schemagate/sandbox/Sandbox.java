package dev.schemagate.sandbox;

import dev.schemagate.sandbox.cluster.Network;
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
 * Kubernetes ({@link Cluster}: the embedded one, or a real cluster in namespaces of its own), and
 * the operator. The demo and the end-to-end suite run on it.
 */
public final class Sandbox implements AutoCloseable {
  /** Which Kubernetes the sandbox runs on. */
  public enum Kind {
    /** The fabric8 mock API server with a local Job executor: starts in a second. */
    EMBEDDED,
    /**
     * etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a node (containerd, the
     * kubelet, kube-proxy, CNI), CoreDNS and a registry, in the sandbox's namespaces.
     */
    REAL
  }

  public final Path home;
  public final Path work;
  public final Database database;
  public final Cluster cluster;
  public final Path kubeconfig;
  private final Map<String, String> operatorEnv = new LinkedHashMap<>();
  private String chartValues = "";
  private int operatorReplicas = 1;
  private final Map<String, String> operatorValues = new LinkedHashMap<>();
  private Operator operator;

  /** Where the sandbox cluster's pods reach its PostgreSQL: a Service of its own namespace. */
  static final String DATABASE_SERVICE = "postgres";

  static final String SANDBOX_NAMESPACE = "sandbox";

  private Sandbox(Path home, Path work, Database database, Cluster cluster) {
    this.home = home;
    this.work = work;
    this.database = database;
    this.cluster = cluster;
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
    boolean external = externalDatabaseUrl != null && !externalDatabaseUrl.isBlank();
    if (kind == Kind.REAL && external) {
      throw new IllegalArgumentException(
          "SCHEMAGATE_SANDBOX_DATABASE_URL works with the embedded sandbox only: the sandbox"
              + " cluster's network is a namespace of its own and reaches no server outside it."
              + " Unset it to use the cluster's own PostgreSQL.");
    }
    Cluster cluster = null;
    Database db = null;
    try {
      if (kind == Kind.REAL) {
        RealCluster real = RealCluster.start(home, work);
        cluster = real;
        db =
            Database.embedded(
                work.resolve("postgres"),
                Network.NODE_IP,
                Network.POD_RANGE,
                DATABASE_SERVICE + "." + SANDBOX_NAMESPACE + ".svc.cluster.local");
        real.serviceFor(SANDBOX_NAMESPACE, DATABASE_SERVICE, Network.NODE_IP, db.port(), 5432);
      } else {
        db =
            external
                ? Database.external(externalDatabaseUrl)
                : Database.embedded(work.resolve("postgres"));
        Map<String, String> base = new LinkedHashMap<>();
        base.put("PATH", System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin"));
        base.put("HOME", work.toString());
        base.put("LANG", "C.UTF-8");
        base.put("TMPDIR", Files.createDirectories(work.resolve("tmp")).toString());
        cluster = new MockCluster(home, work, new ImageMap(), base);
      }
      return new Sandbox(home, work, db, cluster);
    } catch (IOException | InterruptedException | RuntimeException e) {
      if (db != null) {
        db.close();
      }
      if (cluster != null) {
        cluster.close();
      }
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

  /**
   * A migration image of the schemagate runner with its SQL in a directory (a "FROM runner" image),
   * running as the runner's user; returns the image to name in a spec.
   */
  public String runnerImage(String image, Path sql) throws IOException, InterruptedException {
    return runnerImage(image, sql, ImageMap.NON_ROOT);
  }

  /**
   * The same, with the user its image config declares: "" for root, or a name (the user of a plain
   * {@code FROM python} image is root; one with {@code USER app} declares a name).
   */
  public String runnerImage(String image, Path sql, String user)
      throws IOException, InterruptedException {
    if (cluster instanceof RealCluster real) {
      return real.images.runner(image, sql, user.isEmpty() ? "0:0" : user);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    mock()
        .images
        .map(
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
    return image;
  }

  /**
   * An image of a Python project (an Alembic project, say) over the example's: Debian's Python with
   * the example's virtual environment (/opt/venv, first on PATH), the project's files in /app, the
   * working directory, and these variables added to the image's (PATH among them, to put a folder
   * of the project first). On the embedded sandbox, a local process in the project's folder with
   * the Python of .tools/python first on PATH.
   */
  public String pythonImage(String image, Path project, Map<String, String> env)
      throws IOException, InterruptedException {
    if (cluster instanceof RealCluster real) {
      return real.images.python(image, project, env);
    }
    Map<String, String> local = new LinkedHashMap<>();
    local.put("PATH", home.resolve(".tools/python/bin") + ":/usr/bin:/bin");
    local.putAll(env);
    mock().images.map(image, new ImageMap.LocalImage(List.of("/bin/sh"), project, local));
    return image;
  }

  /** An app's image that idles until it is stopped, as a server would; returns the image. */
  public String idleImage(String image) throws IOException, InterruptedException {
    if (cluster instanceof RealCluster real) {
      return real.images.idle(image);
    }
    mock().images.map(image, new ImageMap.LocalImage(List.of("sleep", "infinity"), work, Map.of()));
    return image;
  }

  /**
   * A Job's image that runs for a set time, reports a set result (the Job contract's result file)
   * and exits with a set code; returns the image.
   */
  public String simulatedImage(String image, java.time.Duration runFor, String result, int exitCode)
      throws IOException, InterruptedException {
    if (cluster instanceof RealCluster real) {
      return real.images.simulated(image, runFor, result, exitCode);
    }
    mock().images.simulate(image, runFor, result, exitCode);
    return image;
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
