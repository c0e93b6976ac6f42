package dev.schemagate.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The projected service-account token that admission mounts into a pod (unless {@code
 * automountServiceAccountToken: false}): the kubelet asks the TokenRequest API for a token bound to
 * the pod, as the node may only for its own pods, and writes it with the cluster's CA and the
 * namespace. A local process cannot see {@code /var/run/secrets/...}, so it gets the same as a
 * kubeconfig ({@code KUBECONFIG}): a client in it is held to the service account's RBAC.
 */
final class ServiceAccountTokens {
  /** What the ServiceAccount admission plugin asks for; the API server extends such tokens. */
  static final long EXPIRATION_SECONDS = 3607;

  private final KubernetesClient client;
  private final String server;
  private final String caPem;

  ServiceAccountTokens(KubernetesClient client, String server, String caPem) {
    this.client = client;
    this.server = server;
    this.caPem = caPem;
  }

  /** The kubeconfig of the pod's token, when admission mounted one. */
  Optional<Path> provision(Pod pod, Path podDir) throws IOException {
    Optional<ServiceAccountTokenProjection> projection = projectedToken(pod);
    if (projection.isEmpty()) {
      return Optional.empty();
    }
    String namespace = pod.getMetadata().getNamespace();
    String account =
        pod.getSpec().getServiceAccountName() == null
            ? "default"
            : pod.getSpec().getServiceAccountName();
    var spec =
        new TokenRequestBuilder()
            .withNewSpec()
            .withExpirationSeconds(
                projection.get().getExpirationSeconds() == null
                    ? EXPIRATION_SECONDS
                    : projection.get().getExpirationSeconds())
            .withNewBoundObjectRef()
            .withApiVersion("v1")
            .withKind("Pod")
            .withName(pod.getMetadata().getName())
            .withUid(pod.getMetadata().getUid())
            .endBoundObjectRef();
    if (projection.get().getAudience() != null && !projection.get().getAudience().isBlank()) {
      spec.withAudiences(List.of(projection.get().getAudience()));
    }
    TokenRequest token =
        client
            .serviceAccounts()
            .inNamespace(namespace)
            .withName(account)
            .tokenRequest(spec.endSpec().build());
    Path dir = Files.createDirectories(podDir.resolve("serviceaccount"));
    Files.writeString(dir.resolve("token"), token.getStatus().getToken());
    Files.writeString(dir.resolve("ca.crt"), caPem);
    Files.writeString(dir.resolve("namespace"), namespace);
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: in-cluster",
            "  cluster: {server: \""
                + server
                + "\", certificate-authority: \""
                + dir.resolve("ca.crt")
                + "\"}",
            "contexts:",
            "- name: in-cluster",
            "  context: {cluster: in-cluster, user: \""
                + account
                + "\", namespace: \""
                + namespace
                + "\"}",
            "current-context: in-cluster",
            "users:",
            "- name: \"" + account + "\"",
            "  user: {token: \"" + token.getStatus().getToken() + "\"}",
            ""));
    return Optional.of(kubeconfig);
  }

  private static Optional<ServiceAccountTokenProjection> projectedToken(Pod pod) {
    if (pod.getSpec().getVolumes() == null) {
      return Optional.empty();
    }
    for (Volume volume : pod.getSpec().getVolumes()) {
      if (volume.getProjected() == null || volume.getProjected().getSources() == null) {
        continue;
      }
      boolean mounted =
          pod.getSpec().getContainers().stream()
              .anyMatch(
                  c ->
                      c.getVolumeMounts() != null
                          && c.getVolumeMounts().stream()
                              .anyMatch(m -> volume.getName().equals(m.getName())));
      for (VolumeProjection source : volume.getProjected().getSources()) {
        if (mounted && source.getServiceAccountToken() != null) {
          return Optional.of(source.getServiceAccountToken());
        }
      }
    }
    return Optional.empty();
  }
}
