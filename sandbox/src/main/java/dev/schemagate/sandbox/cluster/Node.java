package dev.schemagate.sandbox.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The sandbox's one node, as on any cluster: containerd (runc, the CNI plugins bridge, host-local,
 * loopback and portmap), the kubelet and kube-proxy, built by {@code scripts/tools} from their Go
 * modules. Pods get addresses on the node's bridge from CNI, Services work through kube-proxy's
 * iptables rules, and the API server reaches the kubelet (logs, exec) and the webhooks (through
 * their Services) as on any cluster. Everything it keeps is under its directory or in the
 * namespaces' own tmpfs; its containers' cgroups are under a cgroup of their own, removed when it
 * stops.
 */
public final class Node implements AutoCloseable {
  public static final String NAME = ControlPlane.NODE_NAME;

  private static final Path CGROUPS = Path.of("/sys/fs/cgroup");

  /** The prefix of the cgroup each node's containers live under (one per sandbox, unique). */
  static final String CGROUP_PREFIX = "schemagate-sandbox-";

  public final Path dir;
  public final Path socket;
  private final Path ctr;
  private final String cgroup;
  private final List<Daemon> daemons = new ArrayList<>();
  private volatile ContainerEvents containers;

  private Node(Path dir, Path bin, String cgroup) throws IOException {
    this.dir = dir;
    this.socket = dir.resolve("containerd/containerd.sock");
    this.ctr = bin.resolve("ctr");
    this.cgroup = cgroup;
    Files.createDirectories(socket.getParent());
  }

  /** The containers the node started and those that ended. */
  public ContainerEvents containers() {
    return containers;
  }

  /**
   * Starts containerd, the kubelet and kube-proxy and returns once the Node is Ready.
   *
   * @param pauseImage the pod sandbox image, in the registry
   */
  public static Node start(Path bin, Path cniBin, Path dir, ControlPlane cp, String pauseImage)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path pids = dir.resolve("pids");
    Daemon.stopLeftovers(pids);
    removeCgroups(name -> name.startsWith(CGROUP_PREFIX));
    // a run without a PID namespace keeps everything it starts in a cgroup of its own
    // (scripts/sandbox-namespace): the node's containers, too
    String run = System.getenv().getOrDefault("SCHEMAGATE_SANDBOX_CGROUP", "");
    String cgroup =
        (run.isEmpty() ? "" : run + "/")
            + CGROUP_PREFIX
            + UUID.randomUUID().toString().substring(0, 8);
    Node node = new Node(dir, bin, cgroup);
    try {
      node.createCgroup();
      node.daemons.add(
          Daemon.start(
              "containerd",
              List.of(
                  bin.resolve("containerd").toString(),
                  "--config",
                  node.containerdConfig(bin, cniBin, pauseImage).toString()),
              dir,
              pids,
              List.of(
                  "PATH=" + bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"))));
      node.daemons
          .get(0)
          .waitUntil("containerd serves", Duration.ofSeconds(30), () -> Files.exists(node.socket));
      node.containers =
          ContainerEvents.watch(node.ctr, node.socket, dir.resolve("container-events.log"));
      Path[] serving =
          cp.pki.issue(
              "kubelet",
              "/CN=system:node:" + NAME,
              List.of("IP:" + Network.NODE_IP, "DNS:" + NAME),
              true);
      node.daemons.add(
          Daemon.start(
              "kubelet",
              List.of(
                  bin.resolve("kubelet").toString(),
                  "--config",
                  node.kubeletConfig(cp, serving).toString(),
                  "--kubeconfig",
                  cp.nodeKubeconfig().toString(),
                  "--root-dir",
                  dir.resolve("kubelet").toString(),
                  "--hostname-override",
                  NAME,
                  "--node-ip",
                  Network.NODE_IP,
                  "--v=1"),
              dir,
              pids));
      node.daemons.add(
          Daemon.start(
              "kube-proxy",
              List.of(
                  bin.resolve("kube-proxy").toString(),
                  "--config",
                  node.proxyConfig(cp).toString()),
              dir,
              pids));
      KubernetesClient admin = cp.admin();
      node.daemons
          .get(1)
          .waitUntil("the node is Ready", Duration.ofSeconds(90), () -> ready(admin));
      return node;
    } catch (IOException | InterruptedException | RuntimeException e) {
      node.close();
      throw e;
    }
  }

  private static boolean ready(KubernetesClient admin) {
    io.fabric8.kubernetes.api.model.Node n = admin.nodes().withName(NAME).get();
    if (n == null || n.getStatus() == null || n.getStatus().getConditions() == null) {
      return false;
    }
    boolean ready =
        n.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    boolean tainted =
        n.getSpec().getTaints() != null
            && n.getSpec().getTaints().stream()
                .anyMatch(t -> t.getKey().startsWith("node.kubernetes.io/"));
    return ready && !tainted;
  }

  private Path containerdConfig(Path bin, Path cniBin, String pauseImage) throws IOException {
    // every registry's names (the sandbox's own, and short names) resolve through the sandbox's
    // registry first, over plain HTTP, as through a mirror: the images a test derives are pushed
    // there under those names (RegistryImages); a name nobody pushed goes on to its own registry,
    // which the sandbox's network does not reach
    Path mirror = dir.resolve("containerd/certs.d/_default");
    Files.createDirectories(mirror);
    Files.writeString(
        mirror.resolve("hosts.toml"),
        String.join(
            "\n",
            "[host.\"http://" + Network.REGISTRY + "\"]",
            "  capabilities = [\"pull\", \"resolve\"]",
            ""));
    Path cni = dir.resolve("cni/net.d");
    Files.createDirectories(cni);
    Files.writeString(
        cni.resolve("10-sandbox.conflist"),
        """
        {"cniVersion": "1.0.0", "name": "sandbox", "plugins": [
          {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
           "ipam": {"type": "host-local", "dataDir": "%s",
                    "ranges": [[{"subnet": "%s"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
          {"type": "portmap", "capabilities": {"portMappings": true}}
        ]}
        """
            .formatted(dir.resolve("cni/ipam"), Network.POD_RANGE));
    Path config = dir.resolve("containerd/config.toml");
    Files.writeString(
        config,
        """
        version = 3
        root = "%s"
        state = "%s"
        [grpc]
          address = "%s"
        [plugins.'io.containerd.cri.v1.images']
          snapshotter = 'overlayfs'
          [plugins.'io.containerd.cri.v1.images'.pinned_images]
            sandbox = '%s'
          [plugins.'io.containerd.cri.v1.images'.registry]
            config_path = '%s'
        [plugins.'io.containerd.cri.v1.runtime']
          # pod network namespaces under containerd's own state, not /run/netns
          netns_mounts_under_state_dir = true
          # this machine's root may raise a process's OOM score but not lower it
          restrict_oom_score_adj = true
          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
            runtime_type = 'io.containerd.runc.v2'
            [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
              BinaryName = '%s'
              SystemdCgroup = false
              # the shims too live under the node's cgroup, so that stopping it stops them
              ShimCgroup = '/%s/shims'
          [plugins.'io.containerd.cri.v1.runtime'.cni]
            bin_dirs = ['%s']
            conf_dir = '%s'
        [plugins.'io.containerd.grpc.v1.cri']
          stream_server_address = '127.0.0.1'
        """
            .formatted(
                dir.resolve("containerd/root"),
                dir.resolve("containerd/state"),
                socket,
                pauseImage,
                dir.resolve("containerd/certs.d"),
                bin.resolve("runc"),
                cgroup,
                cniBin,
                cni));
    return config;
  }

  private Path kubeletConfig(ControlPlane cp, Path[] serving) throws IOException {
    Path config = dir.resolve("kubelet.yaml");
    Files.writeString(
        config,
        """
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        # this machine's kernel mounts cgroup v1, and its PID 1 is not systemd
        failCgroupV1: false
        cgroupDriver: cgroupfs
        cgroupRoot: /%s
        containerRuntimeEndpoint: unix://%s
        address: %s
        readOnlyPort: 0
        healthzBindAddress: 127.0.0.1
        tlsCertFile: %s
        tlsPrivateKeyFile: %s
        authentication:
          anonymous: {enabled: false}
          webhook: {enabled: true}
          x509: {clientCAFile: %s}
        authorization: {mode: Webhook}
        clusterDNS: [%s]
        clusterDomain: cluster.local
        resolvConf: ""
        # the kernel settings the kubelet wants are shown to it (scripts/sandbox-namespace): it
        # checks them and never writes the machine's own
        protectKernelDefaults: true
        failSwapOn: false
        # the sandbox shares its disk with the machine: evict only when it is nearly full
        evictionHard: {memory.available: "100Mi", nodefs.available: "2%%", imagefs.available: "2%%"}
        imageGCHighThresholdPercent: 100
        imageGCLowThresholdPercent: 99
        serializeImagePulls: false
        maxPods: 250
        """
            .formatted(
                cgroup,
                socket,
                Network.NODE_IP,
                serving[0],
                serving[1],
                cp.pki.caCert,
                Network.DNS_IP));
    return config;
  }

  private Path proxyConfig(ControlPlane cp) throws IOException {
    Path config = dir.resolve("kube-proxy.yaml");
    Files.writeString(
        config,
        """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clientConnection: {kubeconfig: %s}
        hostnameOverride: %s
        mode: iptables
        clusterCIDR: %s
        bindAddress: %s
        healthzBindAddress: 127.0.0.1:10256
        metricsBindAddress: 127.0.0.1:10249
        nodePortAddresses: [primary]
        # conntrack's table size is the machine's, not the namespace's: leave it as it is
        conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
        """
            .formatted(cp.proxyKubeconfig(), NAME, Network.POD_RANGE, Network.NODE_IP));
    return config;
  }

  /**
   * The node's cgroup, and one for containerd's shims in it, in every hierarchy the kubelet uses. A
   * new cpuset cgroup (cgroup v1) has no CPUs and no memory nodes until it is given its parent's:
   * no process could join it.
   */
  private void createCgroup() throws IOException {
    for (Path hierarchy : hierarchies()) {
      Path node = hierarchy.resolve(cgroup);
      for (Path cg : List.of(node, node.resolve("shims"))) {
        Files.createDirectories(cg);
        for (String file : List.of("cpuset.cpus", "cpuset.mems")) {
          if (Files.exists(cg.resolve(file))) {
            Files.writeString(
                cg.resolve(file), Files.readString(cg.getParent().resolve(file)).trim());
          }
        }
      }
    }
  }

  private static List<Path> hierarchies() throws IOException {
    if (!Files.isDirectory(CGROUPS)) {
      return List.of();
    }
    if (Files.exists(CGROUPS.resolve("cgroup.procs"))) {
      return List.of(CGROUPS); // cgroup v2
    }
    try (Stream<Path> list = Files.list(CGROUPS)) {
      return list.filter(h -> Files.exists(h.resolve("cgroup.procs"))).toList();
    }
  }

  /**
   * Removes the cgroups of nodes whose name matches and whose processes are all gone (a node's own
   * when it stops; those of a killed run before a new node starts), deepest first. A cgroup that
   * still holds a process (another sandbox's, running) is left.
   */
  static void removeCgroups(java.util.function.Predicate<String> name) throws IOException {
    for (Path hierarchy : hierarchies()) {
      List<Path> roots;
      try (Stream<Path> list = Files.list(hierarchy)) {
        roots =
            list.filter(p -> Files.isDirectory(p) && name.test(p.getFileName().toString()))
                .toList();
      }
      for (Path root : roots) {
        removeTree(root);
      }
    }
  }

  /** Removes the node's cgroup (a path under each hierarchy), what of it holds no process. */
  private static void removeCgroup(String cgroup) throws IOException {
    for (Path hierarchy : hierarchies()) {
      Path root = hierarchy.resolve(cgroup);
      if (Files.isDirectory(root)) {
        removeTree(root);
      }
    }
  }

  private static void removeTree(Path root) throws IOException {
    for (Path cg : cgroupTree(root)) {
      try {
        Files.delete(cg);
      } catch (IOException busy) {
        // it still holds a process (rmdir of a cgroup fails with EBUSY)
      }
    }
  }

  /** The container's process, while it runs. */
  public long pid(String namespace, String pod, String container) {
    return containers()
        .runningPid(namespace, pod, container)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "no running container " + container + " in pod " + namespace + "/" + pod));
  }

  /**
   * The memory a running container uses, as the kubelet counts it (its working set: what its cgroup
   * charges, less the file cache it could give back), read from its memory cgroup.
   */
  public long memoryUsage(String namespace, String pod, String container) throws IOException {
    long pid = pid(namespace, pod, container);
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
      String[] f = line.split(":", 3);
      if (f[1].equals("memory")) { // cgroup v1
        Path cg = CGROUPS.resolve("memory").resolve(f[2].substring(1));
        long usage = Long.parseLong(Files.readString(cg.resolve("memory.usage_in_bytes")).trim());
        return usage - stat(cg.resolve("memory.stat"), "total_inactive_file");
      }
      if (f[0].equals("0") && f[1].isEmpty() && Files.exists(CGROUPS.resolve("cgroup.procs"))) {
        Path cg = CGROUPS.resolve(f[2].substring(1)); // cgroup v2
        long usage = Long.parseLong(Files.readString(cg.resolve("memory.current")).trim());
        return usage - stat(cg.resolve("memory.stat"), "inactive_file");
      }
    }
    throw new IllegalStateException("no memory cgroup for process " + pid);
  }

  private static long stat(Path file, String key) throws IOException {
    return Files.readAllLines(file).stream()
        .filter(l -> l.startsWith(key + " "))
        .mapToLong(l -> Long.parseLong(l.substring(key.length() + 1).trim()))
        .findFirst()
        .orElse(0);
  }

  public List<Daemon> daemons() {
    return List.copyOf(daemons);
  }

  /**
   * Stops kube-proxy and the kubelet, then every container (containerd's shims and the containers'
   * processes), then containerd, and removes the node's cgroup.
   */
  @Override
  public void close() {
    if (containers != null) {
      containers.close();
    }
    for (int i = daemons.size() - 1; i >= 1; i--) {
      daemons.get(i).close();
    }
    stopContainers();
    if (!daemons.isEmpty()) {
      daemons.get(0).close();
    }
    try {
      removeCgroup(cgroup);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Kills every process in the node's cgroup (the containers and what they started). */
  private void stopContainers() {
    try {
      for (Path hierarchy : hierarchies()) {
        for (Path cg : cgroupTree(hierarchy.resolve(cgroup))) {
          List<String> pids;
          try {
            pids = Files.readAllLines(cg.resolve("cgroup.procs"));
          } catch (NoSuchFileException removed) {
            continue; // the kubelet removed a pod's cgroup meanwhile
          } catch (IOException e) {
            if (Files.exists(cg) && !"No such device".equals(e.getMessage())) {
              throw e;
            }
            continue; // removed while it was read: the kernel answers ENODEV
          }
          for (String pid : pids) {
            if (!pid.isBlank()) {
              ProcessHandle.of(Long.parseLong(pid.trim()))
                  .ifPresent(ProcessHandle::destroyForcibly);
            }
          }
        }
      }
      Thread.sleep(200);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The cgroup {@code root} and those under it, deepest first; none when it is gone. Cgroups come
   * and go as the node's containers stop: one removed while this looks is left out.
   */
  private static List<Path> cgroupTree(Path root) throws IOException {
    List<Path> tree = new ArrayList<>();
    if (!Files.isDirectory(root)) {
      return tree;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            tree.add(dir);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }
        });
    tree.sort(Comparator.reverseOrder());
    return tree;
  }
}
