package dev.schemagate.sandbox.cluster;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real Kubernetes control plane in the sandbox's network namespace, built by {@code
 * scripts/tools} from the Go modules Kubernetes and etcd publish: etcd (on the namespace's
 * loopback), kube-apiserver on the node's address (RBAC and Node authorization, the admission
 * plugins of a real cluster, an audit log), kube-controller-manager (every default controller, each
 * with its own service account) and kube-scheduler. Identities are static bearer tokens made at
 * start; the serving certificates come from a CA of its own ({@link Pki}).
 */
public final class ControlPlane implements AutoCloseable {
  /** The admission plugins switched on besides the defaults (which already hold most of them). */
  static final String ADMISSION =
      String.join(
          ",",
          "NamespaceLifecycle",
          "LimitRanger",
          "ServiceAccount",
          "NodeRestriction",
          "TaintNodesByCondition",
          "PodSecurity",
          "Priority",
          "DefaultTolerationSeconds",
          "DefaultStorageClass",
          "StorageObjectInUseProtection",
          "RuntimeClass",
          "DefaultIngressClass",
          "MutatingAdmissionPolicy",
          "MutatingAdmissionWebhook",
          "ValidatingAdmissionPolicy",
          "ValidatingAdmissionWebhook",
          "ResourceQuota");

  public static final String NODE_NAME = "sandbox-node";

  /** The API server's port on the node's address. */
  public static final int PORT = 6443;

  public final Path dir;
  public final Pki pki;
  public final int port;
  public final Path adminKubeconfig;
  public final Path auditLog;
  private final String nodeToken;
  private final String proxyToken;
  private final List<Daemon> daemons = new ArrayList<>();

  /** How long after an outage the API server may still refuse what RBAC allows. */
  static final Duration WARM_UP = Duration.ofSeconds(15);

  private final List<Instant[]> outages = new CopyOnWriteArrayList<>();
  private KubernetesClient admin;

  private ControlPlane(Path dir, Pki pki, int port, String nodeToken, String proxyToken) {
    this.dir = dir;
    this.pki = pki;
    this.port = port;
    this.nodeToken = nodeToken;
    this.proxyToken = proxyToken;
    this.adminKubeconfig = dir.resolve("admin.kubeconfig");
    this.auditLog = dir.resolve("audit.log");
  }

  /** Where scripts/tools links the binaries it built, unless -Dschemagate.tools says otherwise. */
  public static Path binaries(Path home) {
    Path bin =
        Path.of(System.getProperty("schemagate.tools", home.resolve(".tools/bin").toString()));
    for (String b :
        List.of(
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubectl",
            "kubelet",
            "kube-proxy",
            "containerd",
            "containerd-shim-runc-v2",
            "ctr",
            "runc",
            "crane",
            "helm")) {
      if (!Files.isExecutable(bin.resolve(b))) {
        throw new IllegalStateException(
            bin.resolve(b) + " is missing: build the control plane with bash scripts/tools");
      }
    }
    return bin;
  }

  /**
   * Starts etcd, the API server, the controller manager and the scheduler; returns once they serve.
   */
  public static ControlPlane start(Path bin, Path dir) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path pids = dir.resolve("pids");
    Daemon.stopLeftovers(pids);
    Pki pki = Pki.create(dir.resolve("pki"));
    Path[] serving =
        pki.issue(
            "apiserver",
            "/CN=kube-apiserver",
            List.of(
                "IP:" + Network.NODE_IP,
                "IP:127.0.0.1",
                "IP:10.96.0.1",
                "DNS:localhost",
                "DNS:kubernetes",
                "DNS:kubernetes.default",
                "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local"),
            true);
    Path[] kubeletClient =
        pki.issue(
            "apiserver-kubelet-client",
            "/O=system:masters/CN=kube-apiserver-kubelet-client",
            List.of(),
            false);
    Path[] sa = pki.serviceAccountKeys();

    String adminToken = token();
    String kcmToken = token();
    String schedulerToken = token();
    String nodeToken = token();
    String proxyToken = token();
    Path tokens = dir.resolve("tokens.csv");
    Files.writeString(
        tokens,
        String.join(
            "\n",
            adminToken + ",sandbox-admin,sandbox-admin,\"system:masters\"",
            kcmToken + ",system:kube-controller-manager,kube-controller-manager",
            schedulerToken + ",system:kube-scheduler,kube-scheduler",
            nodeToken + ",system:node:" + NODE_NAME + ",node-" + NODE_NAME + ",\"system:nodes\"",
            proxyToken + ",system:kube-proxy,kube-proxy",
            ""));
    Path audit = dir.resolve("audit-policy.yaml");
    Files.writeString(
        audit,
        String.join(
            "\n",
            "apiVersion: audit.k8s.io/v1",
            "kind: Policy",
            "omitStages: [RequestReceived, ResponseStarted]",
            "rules:",
            "# the controllers' own service accounts: not ours to count",
            "- level: None",
            "  userGroups: [\"system:serviceaccounts:kube-system\"]",
            "# every request of a workload's service account (the operator's among them): who, what, the answer",
            "- level: Metadata",
            "  userGroups: [\"system:serviceaccounts\"]",
            "- level: None",
            ""));

    int etcdPort = freePort();
    int etcdPeer = freePort();
    int port = PORT;
    ControlPlane cp = new ControlPlane(dir, pki, port, nodeToken, proxyToken);
    try {
      cp.daemons.add(
          Daemon.start(
              "etcd",
              List.of(
                  bin.resolve("etcd").toString(),
                  "--name",
                  "sandbox",
                  "--data-dir",
                  dir.resolve("etcd").toString(),
                  "--listen-client-urls",
                  "http://127.0.0.1:" + etcdPort,
                  "--advertise-client-urls",
                  "http://127.0.0.1:" + etcdPort,
                  "--listen-peer-urls",
                  "http://127.0.0.1:" + etcdPeer,
                  "--initial-advertise-peer-urls",
                  "http://127.0.0.1:" + etcdPeer,
                  "--initial-cluster",
                  "sandbox=http://127.0.0.1:" + etcdPeer,
                  "--unsafe-no-fsync",
                  "--log-level",
                  "warn",
                  "--listen-metrics-urls",
                  "",
                  "--quota-backend-bytes",
                  Long.toString(8L << 30)),
              dir,
              pids));
      cp.daemons
          .get(0)
          .waitUntil(
              "etcd serves",
              Duration.ofSeconds(30),
              () -> httpOk("http://127.0.0.1:" + etcdPort + "/health"));

      cp.daemons.add(
          Daemon.start(
              "kube-apiserver",
              List.of(
                  bin.resolve("kube-apiserver").toString(),
                  "--etcd-servers",
                  "http://127.0.0.1:" + etcdPort,
                  "--bind-address",
                  Network.NODE_IP,
                  "--advertise-address",
                  Network.NODE_IP,
                  "--secure-port",
                  Integer.toString(port),
                  "--cert-dir",
                  dir.resolve("apiserver-certs").toString(),
                  "--tls-cert-file",
                  serving[0].toString(),
                  "--tls-private-key-file",
                  serving[1].toString(),
                  "--client-ca-file",
                  pki.caCert.toString(),
                  "--requestheader-client-ca-file",
                  pki.caCert.toString(),
                  "--requestheader-allowed-names",
                  "front-proxy-client",
                  "--requestheader-username-headers",
                  "X-Remote-User",
                  "--requestheader-group-headers",
                  "X-Remote-Group",
                  "--requestheader-extra-headers-prefix",
                  "X-Remote-Extra-",
                  "--token-auth-file",
                  tokens.toString(),
                  "--authorization-mode",
                  "Node,RBAC",
                  "--enable-admission-plugins",
                  ADMISSION,
                  "--service-account-issuer",
                  "https://kubernetes.default.svc.cluster.local",
                  "--service-account-key-file",
                  sa[1].toString(),
                  "--service-account-signing-key-file",
                  sa[0].toString(),
                  "--service-cluster-ip-range",
                  Network.SERVICE_RANGE,
                  "--kubelet-client-certificate",
                  kubeletClient[0].toString(),
                  "--kubelet-client-key",
                  kubeletClient[1].toString(),
                  "--kubelet-certificate-authority",
                  pki.caCert.toString(),
                  "--kubelet-preferred-address-types",
                  "InternalIP",
                  "--allow-privileged=false",
                  "--audit-policy-file",
                  audit.toString(),
                  "--audit-log-path",
                  cp.auditLog.toString(),
                  "--audit-log-format",
                  "json",
                  "--audit-log-mode",
                  "batch",
                  "--audit-log-batch-max-wait",
                  "1s",
                  "--audit-log-maxsize",
                  "500",
                  "--profiling=false",
                  "--v=0"),
              dir,
              pids));
      // the controller manager gives up when the API server is not healthy within 20 s (its
      // RBAC roles bootstrapped among the checks): on a loaded machine that takes longer
      cp.writeKubeconfig(cp.adminKubeconfig, "sandbox-admin", adminToken, "default");
      cp.admin = cp.client(cp.adminKubeconfig);
      cp.daemons.get(1).waitUntil("the API server is ready", Duration.ofSeconds(120), cp::ready);
      Path kcm =
          cp.writeKubeconfig(
              dir.resolve("kube-controller-manager.kubeconfig"),
              "kube-controller-manager",
              kcmToken,
              "kube-system");
      cp.daemons.add(
          Daemon.start(
              "kube-controller-manager",
              List.of(
                  bin.resolve("kube-controller-manager").toString(),
                  "--kubeconfig",
                  kcm.toString(),
                  "--leader-elect=false",
                  "--use-service-account-credentials",
                  "--service-account-private-key-file",
                  sa[0].toString(),
                  "--root-ca-file",
                  pki.caCert.toString(),
                  "--cluster-signing-cert-file",
                  pki.caCert.toString(),
                  "--cluster-signing-key-file",
                  pki.caKey.toString(),
                  "--service-cluster-ip-range",
                  Network.SERVICE_RANGE,
                  "--bind-address",
                  "127.0.0.1",
                  "--secure-port",
                  "0",
                  "--profiling=false",
                  // the scheduler's client limits: at the default 20 requests a second the
                  // Deployment controller takes minutes over the benchmarks' thousands of
                  // Deployments, and a chart installed meanwhile waits behind them
                  "--kube-api-qps",
                  "200",
                  "--kube-api-burst",
                  "400",
                  // a node that stops reporting is tainted after this, and its pods evicted 5
                  // minutes later
                  "--node-monitor-grace-period",
                  "40s"),
              dir,
              pids));
      Path scheduler =
          cp.writeKubeconfig(
              dir.resolve("kube-scheduler.kubeconfig"),
              "kube-scheduler",
              schedulerToken,
              "kube-system");
      Path schedulerConfig = dir.resolve("kube-scheduler.yaml");
      Files.writeString(
          schedulerConfig,
          String.join(
              "\n",
              "apiVersion: kubescheduler.config.k8s.io/v1",
              "kind: KubeSchedulerConfiguration",
              "clientConnection: {kubeconfig: \"" + scheduler + "\", qps: 200, burst: 400}",
              "leaderElection: {leaderElect: false}",
              ""));
      cp.daemons.add(
          Daemon.start(
              "kube-scheduler",
              List.of(
                  bin.resolve("kube-scheduler").toString(),
                  "--config",
                  schedulerConfig.toString(),
                  "--bind-address",
                  "127.0.0.1",
                  "--secure-port",
                  "0"),
              dir,
              pids));

      cp.daemons
          .get(2)
          .waitUntil(
              "the controllers run (the default namespace has its service account)",
              Duration.ofSeconds(60),
              () ->
                  cp.admin.serviceAccounts().inNamespace("default").withName("default").get()
                      != null);
      return cp;
    } catch (IOException | InterruptedException | RuntimeException e) {
      cp.close();
      throw e;
    }
  }

  /** A client with every right (group system:masters). */
  public KubernetesClient admin() {
    return admin;
  }

  public String url() {
    return "https://" + Network.NODE_IP + ":" + port;
  }

  /** The kubelet's kubeconfig: user system:node:NAME in group system:nodes. */
  public Path nodeKubeconfig() throws IOException {
    return writeKubeconfig(
        dir.resolve("kubelet.kubeconfig"), "system:node:" + NODE_NAME, nodeToken, "default");
  }

  /** kube-proxy's kubeconfig: user system:kube-proxy (bound to system:node-proxier). */
  public Path proxyKubeconfig() throws IOException {
    return writeKubeconfig(
        dir.resolve("kube-proxy.kubeconfig"), "system:kube-proxy", proxyToken, "default");
  }

  /** A kubeconfig for this API server with a bearer token, trusting the sandbox's CA. */
  public Path writeKubeconfig(Path file, String user, String token, String namespace)
      throws IOException {
    String ca = Base64.getEncoder().encodeToString(Files.readAllBytes(pki.caCert));
    Files.createDirectories(file.getParent());
    Files.writeString(
        file,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: sandbox",
            "  cluster:",
            "    server: " + url(),
            "    certificate-authority-data: " + ca,
            "contexts:",
            "- name: sandbox",
            "  context: {cluster: sandbox, user: \"" + user + "\", namespace: " + namespace + "}",
            "current-context: sandbox",
            "users:",
            "- name: \"" + user + "\"",
            "  user: {token: " + token + "}",
            ""));
    return file;
  }

  /** A client from a kubeconfig file. */
  public KubernetesClient client(Path kubeconfig) throws IOException {
    Config config =
        Config.fromKubeconfig(null, Files.readString(kubeconfig), kubeconfig.toString());
    config.setRequestTimeout(30_000);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public List<Daemon> daemons() {
    return List.copyOf(daemons);
  }

  /** One of the processes: etcd, kube-apiserver, kube-controller-manager or kube-scheduler. */
  public Daemon daemon(String name) {
    return daemons.stream()
        .filter(d -> d.name.equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no daemon " + name));
  }

  /** Stops a process (SIGTERM, as an orderly shutdown would), as in an outage. */
  public void stop(String name) {
    outages.add(new Instant[] {Instant.now(), Instant.MAX});
    daemon(name).stop(10);
  }

  /**
   * Starts a stopped process again with its command, ports and data, and returns once the API
   * server answers ready again.
   */
  public void startAgain(String name) throws IOException, InterruptedException {
    daemon(name).startAgain();
    daemon(name).waitUntil("the API server is ready again", Duration.ofSeconds(60), this::ready);
    Instant[] outage = outages.get(outages.size() - 1);
    outage[1] = Instant.now().plus(WARM_UP);
  }

  /**
   * Whether the moment falls in an outage this control plane went through: from the stop of a
   * process to {@link #WARM_UP} after the API server was ready again (its authorizer's caches
   * refill after a restart, and it refuses what RBAC allows until they have).
   */
  public boolean inOutage(Instant at) {
    return outages.stream().anyMatch(o -> !at.isBefore(o[0]) && at.isBefore(o[1]));
  }

  /** Whether the API server answers ready (its etcd reachable). */
  public boolean ready() {
    try {
      return "ok".equals(admin.raw("/readyz"));
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean httpOk(String url) {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
                  HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String token() {
    return UUID.randomUUID().toString().replace("-", "")
        + UUID.randomUUID().toString().replace("-", "");
  }

  /** Stops the scheduler, the controller manager, the API server and etcd, in that order. */
  @Override
  public void close() {
    if (admin != null) {
      admin.close();
    }
    for (int i = daemons.size() - 1; i >= 0; i--) {
      daemons.get(i).close();
    }
  }
}
