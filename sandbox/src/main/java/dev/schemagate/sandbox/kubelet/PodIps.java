package dev.schemagate.sandbox.kubelet;

import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Each pod's own IP address in 127.0.1.1-127.0.255.254: the loopback network holds all of
 * 127.0.0.0/8, so two pods may listen on the same port, each on its own address, as on a cluster's
 * pod network. Each node starts at an address of its own (random), so that two sandboxes on one
 * machine (two test suites at once) do not give their operators the same address and port. A
 * process learns its address from {@code status.podIP} (downward API) or {@code SANDBOX_POD_IP}.
 */
final class PodIps {
  private static final int FIRST = 256 + 1;
  private static final int LAST = 256 * 256 - 2;
  private final BitSet used = new BitSet();
  private final int start = FIRST + new java.util.Random().nextInt(LAST - FIRST + 1);
  private final Map<String, Integer> byPod = new HashMap<>();

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
    return "127.0." + (n >> 8) + "." + (n & 0xff);
  }

  synchronized void release(String podUid) {
    Integer n = byPod.remove(podUid);
    if (n != null) {
      used.clear(n);
    }
  }
}
