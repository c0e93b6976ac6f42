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
 * 10.244.0.0/16 dev lo}, left in place: it touches no other address), and each kubelet takes a /24
 * of it: Services and their EndpointSlices work, which refuse loopback addresses. Elsewhere the
 * pods get addresses from 127.0.0.0/8, which every Linux has, and Services get no endpoints.
 */
final class PodIps {
  static final String NETWORK = "10.244.0.0/16";
  private static final Logger LOG = LoggerFactory.getLogger(PodIps.class);
  private static final int FIRST = 2;
  private static final int LAST = 254;
  private final String prefix;
  private final BitSet used = new BitSet();
  private final int start = FIRST + new java.util.Random().nextInt(LAST - FIRST + 1);
  private final Map<String, Integer> byPod = new HashMap<>();

  PodIps() {
    int block = ThreadLocalRandom.current().nextInt(1, 255);
    prefix = routeNetwork() ? "10.244." + block + "." : "127.0." + block + ".";
  }

  /** Whether pods get addresses Services can route to (not loopback ones). */
  boolean routable() {
    return prefix.startsWith("10.");
  }

  synchronized String take(String podUid) {
    Integer n = byPod.get(podUid);
    if (n == null) {
      n = used.nextClearBit(start);
      if (n > LAST) {
        n = used.nextClearBit(FIRST);
      }
      if (n > LAST) {
        throw new IllegalStateException("the sandbox's node has no pod address left");
      }
      used.set(n);
      byPod.put(podUid, n);
    }
    return prefix + n;
  }

  synchronized void release(String podUid) {
    Integer n = byPod.remove(podUid);
    if (n != null) {
      used.clear(n);
    }
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
