package dev.schemagate.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * The node's half of the kubelet: registers the Node with its capacity, reports it Ready (and free
 * of pressure) every 10 s, and renews its Lease in {@code kube-node-lease}, without which the
 * node-lifecycle controller would taint it and, later, evict its pods.
 */
final class NodeAgent {
  static final String LEASE_NAMESPACE = "kube-node-lease";
  static final int LEASE_SECONDS = 40;

  /** Enough for a thousand finished Job pods a benchmark leaves behind. */
  static final Map<String, Quantity> CAPACITY =
      Map.of(
          "cpu",
          new Quantity("32"),
          "memory",
          new Quantity("64Gi"),
          "pods",
          new Quantity("1100"),
          "ephemeral-storage",
          new Quantity("200Gi"));

  private final KubernetesClient client;
  private final String name;
  private final int kubeletPort;
  private final String kubernetesVersion;
  private final Instant started = Instant.now();

  NodeAgent(KubernetesClient client, String name, int kubeletPort, String kubernetesVersion) {
    this.client = client;
    this.name = name;
    this.kubeletPort = kubeletPort;
    this.kubernetesVersion = kubernetesVersion;
  }

  /** Creates the Node, or takes over one of this name that a previous run left. */
  void register() {
    var node =
        new NodeBuilder()
            .withNewMetadata()
            .withName(name)
            .withLabels(
                Map.of(
                    "kubernetes.io/hostname",
                    name,
                    "kubernetes.io/os",
                    "linux",
                    "kubernetes.io/arch",
                    "amd64"))
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .withNewStatus()
            .withCapacity(CAPACITY)
            .withAllocatable(CAPACITY)
            .withConditions(conditions(Instant.now()))
            .addNewAddress()
            .withType("InternalIP")
            .withAddress("127.0.0.1")
            .endAddress()
            .addNewAddress()
            .withType("Hostname")
            .withAddress(name)
            .endAddress()
            .withNewDaemonEndpoints()
            .withNewKubeletEndpoint()
            .withPort(kubeletPort)
            .endKubeletEndpoint()
            .endDaemonEndpoints()
            .withNewNodeInfo()
            .withArchitecture("amd64")
            .withOperatingSystem("linux")
            .withOsImage("schemagate sandbox")
            .withKernelVersion(System.getProperty("os.version"))
            .withKubeletVersion(kubernetesVersion)
            .withKubeProxyVersion("")
            .withContainerRuntimeVersion("schemagate-sandbox://1")
            .withMachineID(name)
            .withSystemUUID(name)
            .withBootID(started.toString())
            .endNodeInfo()
            .endStatus()
            .build();
    try {
      client.nodes().resource(node).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    heartbeat();
  }

  /** The node's status and Lease, as the kubelet renews them. */
  void heartbeat() {
    Instant now = Instant.now();
    String status =
        client
            .getKubernetesSerialization()
            .asJson(
                Map.of(
                    "status",
                    Map.of(
                        "conditions",
                        conditions(now),
                        "capacity",
                        CAPACITY,
                        "allocatable",
                        CAPACITY,
                        "daemonEndpoints",
                        Map.of("kubeletEndpoint", Map.of("Port", kubeletPort)))));
    client
        .nodes()
        .withName(name)
        .subresource("status")
        .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), status);
    renewLease(now);
  }

  private void renewLease(Instant now) {
    String renew = now.truncatedTo(ChronoUnit.MICROS).toString();
    Lease lease = client.leases().inNamespace(LEASE_NAMESPACE).withName(name).get();
    if (lease == null) {
      var node = client.nodes().withName(name).get();
      client
          .leases()
          .inNamespace(LEASE_NAMESPACE)
          .resource(
              new LeaseBuilder()
                  .withNewMetadata()
                  .withName(name)
                  .withNamespace(LEASE_NAMESPACE)
                  .addNewOwnerReference()
                  .withApiVersion("v1")
                  .withKind("Node")
                  .withName(name)
                  .withUid(node.getMetadata().getUid())
                  .endOwnerReference()
                  .endMetadata()
                  .withNewSpec()
                  .withHolderIdentity(name)
                  .withLeaseDurationSeconds(LEASE_SECONDS)
                  .withRenewTime(java.time.ZonedDateTime.parse(renew))
                  .endSpec()
                  .build())
          .create();
      return;
    }
    lease.getSpec().setRenewTime(java.time.ZonedDateTime.parse(renew));
    client.leases().inNamespace(LEASE_NAMESPACE).resource(lease).update();
  }

  private List<NodeCondition> conditions(Instant now) {
    String time = now.truncatedTo(ChronoUnit.SECONDS).toString();
    String since = started.truncatedTo(ChronoUnit.SECONDS).toString();
    return List.of(
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            time,
            since),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
            time,
            since),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
            time,
            since),
        condition(
            "Ready",
            "True",
            "KubeletReady",
            "the sandbox kubelet is posting ready status",
            time,
            since));
  }

  private static NodeCondition condition(
      String type, String status, String reason, String message, String heartbeat, String since) {
    return new NodeConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastHeartbeatTime(heartbeat)
        .withLastTransitionTime(since)
        .build();
  }
}
