package dev.schemagate.sandbox.kubelet;

import dev.schemagate.sandbox.ImageMap;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A kubelet for the sandbox's one node: it registers the Node and keeps its Lease fresh, and runs
 * each pod the scheduler binds to it as local processes, one per container, through the explicit
 * image map. It acts as the node ({@code system:node:NAME}), so the Node authorizer decides which
 * Secrets it may read. Readiness and liveness probes are not run: a container is ready once its
 * process runs. Every process start is recorded ({@link #starts()}).
 */
public final class Kubelet implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Kubelet.class);

  /** A container's process ended: which pod, which image, when, with which code. */
  public record Exit(
      String namespace, String pod, String container, String image, Instant at, int exitCode) {}

  /** A container's process started: which pod, which image, when; pid -1 for a simulated one. */
  public record Start(
      String namespace, String pod, String container, String image, Instant at, long pid) {}

  final KubernetesClient client;
  final ImageMap images;
  final Path podsDir;
  final Map<String, String> baseEnv;
  final ContainerEnv.Source source;
  final ServiceAccountTokens tokens;
  final ScheduledExecutorService scheduler =
      Executors.newScheduledThreadPool(
          4,
          r -> {
            Thread t = new Thread(r, "kubelet");
            t.setDaemon(true);
            return t;
          });
  private final String nodeName;

  /**
   * Every process started, so that a later kubelet in this directory can stop what a killed JVM
   * left.
   */
  private final Path pids;

  private final Map<String, PodWorker> workers = new ConcurrentHashMap<>();
  final PodIps ips = new PodIps();
  private final List<Start> starts = new CopyOnWriteArrayList<>();
  private final List<Exit> exits = new CopyOnWriteArrayList<>();
  private final NodeAgent node;
  private final LogServer logs;
  private SharedIndexInformer<Pod> informer;

  /**
   * @param client a client with the node's identity
   * @param serving the kubelet's serving certificate and key, for the log endpoint
   */
  public Kubelet(
      KubernetesClient client,
      String nodeName,
      String kubernetesVersion,
      ImageMap images,
      Path podsDir,
      Map<String, String> baseEnv,
      Path[] serving,
      String caPem)
      throws IOException {
    this.client = client;
    this.nodeName = nodeName;
    this.images = images;
    this.podsDir = Files.createDirectories(podsDir);
    this.pids = podsDir.resolve("pids");
    dev.schemagate.sandbox.cluster.Daemon.stopLeftovers(pids);
    this.baseEnv = baseEnv;
    this.source =
        new ContainerEnv.Source() {
          @Override
          public Secret secret(String namespace, String name) {
            return client.secrets().inNamespace(namespace).withName(name).get();
          }

          @Override
          public ConfigMap configMap(String namespace, String name) {
            return client.configMaps().inNamespace(namespace).withName(name).get();
          }
        };
    this.tokens =
        new ServiceAccountTokens(
            client, client.getConfiguration().getMasterUrl().replaceFirst("/$", ""), caPem);
    this.logs =
        new LogServer(
            serving[0],
            serving[1],
            new LogServer.Logs() {
              @Override
              public Path log(String namespace, String pod, String container, boolean previous) {
                return logFile(namespace, pod, container, previous);
              }

              @Override
              public boolean running(String namespace, String pod, String container) {
                PodWorker worker = worker(namespace, pod);
                return worker != null && worker.running(container);
              }
            });
    this.node = new NodeAgent(client, nodeName, logs.port(), kubernetesVersion);
  }

  public Kubelet start() {
    node.register();
    scheduler.scheduleWithFixedDelay(this::heartbeat, 10, 10, TimeUnit.SECONDS);
    informer =
        client
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", nodeName)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    accept(pod);
                  }

                  @Override
                  public void onUpdate(Pod old, Pod pod) {
                    accept(pod);
                  }

                  @Override
                  public void onDelete(Pod pod, boolean finalStateUnknown) {
                    PodWorker worker = workers.remove(pod.getMetadata().getUid());
                    if (worker != null) {
                      worker.removed();
                    }
                    ips.release(pod.getMetadata().getUid());
                  }
                });
    return this;
  }

  /** Every container process started so far, in order. */
  /** Whether pods get addresses Services route to (see PodIps): webhooks and endpoints work. */
  public boolean podNetworkRoutable() {
    return ips.routable();
  }

  public List<Exit> exits() {
    return List.copyOf(exits);
  }

  public List<Start> starts() {
    return List.copyOf(starts);
  }

  /** A container's log as {@code kubectl logs} shows it ("" when there is none). */
  public String log(String namespace, String pod, String container) {
    Path log = logFile(namespace, pod, container, false);
    try {
      return !Files.exists(log) ? "" : Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Where the logs of every pod this kubelet ran are kept: {@code
   * <dir>/<namespace>/<pod>/<container>.log}.
   */
  public Path podsDir() {
    return podsDir;
  }

  Path logFile(String namespace, String pod, String container, boolean previous) {
    return podsDir
        .resolve(namespace)
        .resolve(pod)
        .resolve(container + (previous ? ".previous.log" : ".log"));
  }

  void exited(String namespace, String pod, String container, String image, Instant at, int code) {
    exits.add(new Exit(namespace, pod, container, image, at, code));
  }

  void started(String namespace, String pod, String container, String image, Instant at, long pid) {
    starts.add(new Start(namespace, pod, container, image, at, pid));
    if (pid > 0) {
      dev.schemagate.sandbox.cluster.Daemon.record(pids, pid);
    }
  }

  private void accept(Pod pod) {
    String uid = pod.getMetadata().getUid();
    PodWorker worker = workers.get(uid);
    if (worker == null) {
      if (PodWorker.isTerminal(pod) && pod.getMetadata().getDeletionTimestamp() == null) {
        return;
      }
      try {
        worker =
            workers.computeIfAbsent(
                uid,
                u -> {
                  try {
                    return new PodWorker(this, pod);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
      } catch (java.io.UncheckedIOException e) {
        LOG.warn(
            "cannot run pod {}/{}: {}",
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            e.getMessage());
        return;
      }
    }
    PodWorker w = worker;
    scheduler.execute(
        () -> {
          try {
            w.update(pod);
          } catch (RuntimeException e) {
            LOG.warn(
                "pod {}/{}: {}",
                pod.getMetadata().getNamespace(),
                pod.getMetadata().getName(),
                e.toString());
            w.syncLater(java.time.Duration.ofSeconds(1));
          }
        });
  }

  private PodWorker worker(String namespace, String pod) {
    return workers.values().stream().filter(w -> w.is(namespace, pod)).findFirst().orElse(null);
  }

  private void heartbeat() {
    try {
      node.heartbeat();
    } catch (RuntimeException e) {
      LOG.warn("node heartbeat failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    workers.values().forEach(PodWorker::removed);
    if (informer != null) {
      informer.close();
    }
    workers.values().forEach(PodWorker::removed);
    scheduler.shutdownNow();
    logs.close();
  }
}
