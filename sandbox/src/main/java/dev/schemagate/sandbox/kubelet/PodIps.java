package dev.schemagate.sandbox.kubelet;

import java.io.IOException;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each pod's own IP address, so that two pods may listen on the same port, as on a cluster's pod
 * network. Where the sandbox may (root, with the network capability), every address of {@link
 * #NETWORK} is made local with one route on the loopback device ({@code ip route add local
 * 10.244.0.0/16 dev lo}, left in place: it touches no other address): Services and their
 * EndpointSlices work, which refuse loopback addresses. Elsewhere the pods get addresses from
 * 127.244.0.0/16 (127.0.0.0/8 is local on every Linux), and Services get no endpoints.
 *
 * <p>The node hands out the whole /16 (65,024 addresses: none ends in .0 or .255), from a random
 * place, so that two sandboxes on one machine (two test suites at once) seldom give two operators
 * the same address; a pod's address is free again once the pod is gone from the API server, as a
 * kubelet frees it with the pod's sandbox. A suite that makes hundreds of Jobs never runs out.
 */
final class PodIps {
  static final String NETWORK = "10.244.0.0/16";
  private static final Logger LOG = LoggerFactory.getLogger(PodIps.class);
  private static final int SIZE = 1 << 16;
  private final String prefix;
  private final BitSet used = new BitSet(SIZE);
  private final int start = ThreadLocalRandom.current().nextInt(SIZE);
  private final Map<String, Integer> byPod = new HashMap<>();

  PodIps() {
    this(routeNetwork());
  }

  PodIps(boolean routable) {
    prefix = routable ? "10.244." : "127.244.";
  }

  /** Whether pods get addresses Services can route to (not loopback ones). */
  boolean routable() {
    return prefix.startsWith("10.");
  }

  /** The pod's address: the one it has, or a free one. */
  synchronized String take(String podUid) {
    Integer n = byPod.get(podUid);
    if (n == null) {
      n = free(start);
      if (n < 0) {
        n = free(0);
      }
      if (n < 0) {
        throw new IllegalStateException(
            "the sandbox's node has no pod address left: " + byPod.size() + " pods hold one");
      }
      used.set(n);
      byPod.put(podUid, n);
    }
    return prefix + (n >> 8) + "." + (n & 0xff);
  }

  /** The pod is gone: its address may be given again. */
  synchronized void release(String podUid) {
    Integer n = byPod.remove(podUid);
    if (n != null) {
      used.clear(n);
    }
  }

  /** The first free usable address at or after {@code from}, or -1. */
  private int free(int from) {
    for (int n = used.nextClearBit(from); n < SIZE; n = used.nextClearBit(n + 1)) {
      int last = n & 0xff;
      if (last != 0 && last != 0xff) {
        return n;
      }
    }
    return -1;
  }

  private static boolean routeNetwork() {
    try {
      Process ip =
          new ProcessBuilder("ip", "route", "replace", "local", NETWORK, "dev", "lo")
              .redirectErrorStream(true)
              .start();
      String out = new String(ip.getInputStream().readAllBytes());
      if (ip.waitFor(10, TimeUnit.SECONDS) && ip.exitValue() == 0) {
        return true;
      }
      LOG.warn(
          "pods get loopback addresses (Services get no endpoints): ip route: {}", out.strip());
    } catch (IOException e) {
      LOG.warn("pods get loopback addresses (Services get no endpoints): {}", e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }
}
