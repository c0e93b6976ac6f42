package dev.schemagate.sandbox.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;

/**
 * The sandbox cluster's addresses. They exist only inside the network namespace {@code
 * scripts/sandbox-namespace} makes (the node's address on its loopback, the pod bridge the CNI
 * plugins add, the Service rules kube-proxy writes), so they can be fixed: nothing on the host or
 * in another sandbox sees them.
 */
public final class Network {
  /** The node's address: the API server, the kubelet, the registry and PostgreSQL serve on it. */
  public static final String NODE_IP = "10.250.0.1";

  /** The one node's pods (the CNI bridge plugin's range; its gateway is the bridge, .1). */
  public static final String POD_RANGE = "10.244.0.0/24";

  /** The Service network; the API server's own Service takes its first address. */
  public static final String SERVICE_RANGE = "10.96.0.0/24";

  /** The cluster DNS Service (CoreDNS). */
  public static final String DNS_IP = "10.96.0.10";

  /** The image registry, as the node and helm reach it. */
  public static final String REGISTRY = NODE_IP + ":5000";

  private Network() {}

  /**
   * Fails unless this process runs inside the sandbox's namespaces: the node's address is on one of
   * its interfaces only there.
   */
  public static void requireInside() throws IOException {
    InetAddress node = InetAddress.getByName(NODE_IP);
    try {
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (Collections.list(nic.getInetAddresses()).contains(node)) {
          return;
        }
      }
    } catch (SocketException e) {
      throw new IOException("cannot list this process's network interfaces", e);
    }
    throw new IllegalStateException(
        "the sandbox cluster runs in network and mount namespaces of its own, and this process is"
            + " not in them: start it through scripts/sandbox-namespace (scripts/run --real and"
            + " scripts/test do), as root");
  }
}
