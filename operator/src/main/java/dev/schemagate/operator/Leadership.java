package dev.schemagate.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.jboss.logging.Logger;

/**
 * The operator's side of leader election on its Lease (the first replica makes it: the chart
 * renders none, so that no upgrade or sync frees it), and the way out of the process.
 *
 * <ul>
 *   <li>The identity is the pod's name (HOSTNAME) with a suffix of its own, so that a restarted
 *       container, or two copies run by hand on one machine, never take each other for the leader.
 *   <li>A Lease lost while the operator runs (it could not renew it within the renew deadline, or
 *       another replica holds it) ends the process, so that it starts again and competes; the exit
 *       runs on a thread of its own (System.exit on a shutdown-hook thread never returns).
 *   <li>On shutdown (SIGTERM), the SDK stops the controllers, then leader election; this releases
 *       the Lease then, with a short bounded request, so that the other replica leads within its
 *       retry period instead of the Lease duration. The SDK is told not to exit on stopping
 *       leadership: its System.exit inside the shutdown hook was a deadlock until SIGKILL.
 *   <li>A watchdog bounds the shutdown: whatever hangs (a request to an API server that is gone),
 *       the process is halted {@link #SHUTDOWN_LIMIT} after SIGTERM.
 * </ul>
 */
@Singleton
public class Leadership {
  private static final Logger LOG = Logger.getLogger(Leadership.class);

  /** How long a shutdown may take before the process is halted. */
  static final Duration SHUTDOWN_LIMIT = Duration.ofSeconds(4);

  /** How long releasing the Lease may take on shutdown. */
  static final Duration RELEASE_LIMIT = Duration.ofMillis(1500);

  private final KubernetesClient client;
  private final String leaseName;
  private final Optional<String> leaseNamespace;
  private final String identity;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicBoolean leading = new AtomicBoolean();
  private final AtomicBoolean electing = new AtomicBoolean();
  private final IntConsumer exit;

  @Inject
  public Leadership(KubernetesClient client, Settings settings, MeterRegistry registry) {
    this(
        client,
        settings.leaseName(),
        settings.leaseNamespace(),
        identity(System.getenv("HOSTNAME")),
        System::exit);
    exportTo(registry);
  }

  /** schemagate_leader: 1 while this replica reconciles. */
  void exportTo(MeterRegistry registry) {
    // the registry may outlive an earlier instance (an application restarted in the same process)
    registry.find("schemagate.leader").meters().forEach(registry::remove);
    Gauge.builder("schemagate.leader", this, Leadership::reconciles)
        .description(
            "1 while this replica reconciles: it holds the Lease, or runs without leader election")
        .strongReference(true)
        .register(registry);
  }

  /** Leadership of the Lease {@code leaseName}, in its namespace or the client's. */
  Leadership(
      KubernetesClient client,
      String leaseName,
      Optional<String> leaseNamespace,
      String identity,
      IntConsumer exit) {
    this.client = client;
    this.leaseName = leaseName;
    this.leaseNamespace = leaseNamespace;
    this.identity = identity;
    this.exit = exit;
  }

  /** {@code <pod name>_<8 random hex digits>}; a pod's name never holds '_'. */
  static String identity(String hostname) {
    String host = hostname == null || hostname.isBlank() ? "schemagate" : hostname;
    return host + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  public String identity() {
    return identity;
  }

  /**
   * The callbacks of leader election. The operator SDK asks for leader election's configuration
   * (and so for these) only where leader election is on (the prod profile): until then this replica
   * counts as reconciling, as it does without it.
   */
  LeaderCallbacks callbacks() {
    electing.set(true);
    return new LeaderCallbacks(this::startedLeading, this::stoppedLeading, this::newLeader);
  }

  /** 1 while this replica reconciles: it leads, or leader election is off; else 0. */
  double reconciles() {
    return leading.get() || !electing.get() ? 1 : 0;
  }

  private void startedLeading() {
    leading.set(true);
    LOG.infof("leading as %s on Lease %s", identity, leaseName);
  }

  private void newLeader(String leader) {
    if (!identity.equals(leader)) {
      LOG.infof("the leader is %s", leader == null || leader.isEmpty() ? "nobody" : leader);
    }
  }

  /**
   * Called by the SDK when leading stops: on shutdown, after the controllers stopped; otherwise
   * because the Lease was lost.
   */
  void stoppedLeading() {
    boolean wasLeading = leading.getAndSet(false);
    if (stopping.get()) {
      if (wasLeading) {
        release();
      }
      return;
    }
    LOG.errorf(
        "lost the Lease %s (not renewed within the renew deadline, or taken by another replica):"
            + " exiting, to start again and compete for it",
        leaseName);
    Thread exiting = new Thread(() -> exit.accept(1), "lease-lost-exit");
    exiting.setDaemon(true);
    exiting.start();
  }

  /** Frees the Lease if this replica still holds it; gives up after {@link #RELEASE_LIMIT}. */
  void release() {
    String namespace = leaseNamespace.orElseGet(() -> client.getConfiguration().getNamespace());
    String patch =
        "[{\"op\":\"test\",\"path\":\"/spec/holderIdentity\",\"value\":\""
            + identity
            + "\"},{\"op\":\"replace\",\"path\":\"/spec/holderIdentity\",\"value\":\"\"}]";
    CompletableFuture<Void> released =
        CompletableFuture.runAsync(
            () ->
                client
                    .leases()
                    .inNamespace(namespace)
                    .withName(leaseName)
                    .patch(PatchContext.of(PatchType.JSON), patch),
            runnable -> {
              Thread t = new Thread(runnable, "lease-release");
              t.setDaemon(true);
              t.start();
            });
    try {
      released.get(RELEASE_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
      LOG.infof("released the Lease %s", leaseName);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.warnf(
          "could not release the Lease %s (another replica leads once it expires): %s",
          leaseName, e.getCause() == null ? e.toString() : e.getCause().toString());
    }
  }

  /** The shutdown has begun: stopping leadership from now on is not a lost Lease. */
  void onShutdown(@Observes @Priority(1) ShutdownEvent event) {
    stopping.set(true);
  }

  /**
   * In a process of its own (not in tests, where an application stops and the JVM goes on), a JVM
   * shutdown hook, run as soon as SIGTERM arrives, marks the shutdown and starts the watchdog.
   */
  void onStart(@Observes StartupEvent event) {
    if (LaunchMode.current() != LaunchMode.NORMAL) {
      return;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  Thread watchdog =
                      new Thread(
                          () -> {
                            try {
                              Thread.sleep(SHUTDOWN_LIMIT.toMillis());
                            } catch (InterruptedException e) {
                              return;
                            }
                            System.err.println(
                                "schemagate: shutdown took longer than "
                                    + SHUTDOWN_LIMIT.toSeconds()
                                    + " s: halting");
                            Runtime.getRuntime().halt(1);
                          },
                          "shutdown-watchdog");
                  watchdog.setDaemon(true);
                  watchdog.start();
                },
                "schemagate-shutdown"));
  }
}
