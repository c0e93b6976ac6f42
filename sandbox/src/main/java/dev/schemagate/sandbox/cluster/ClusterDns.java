package dev.schemagate.sandbox.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The cluster's DNS: CoreDNS in kube-system behind the kube-dns Service ({@code coredns.yaml}). */
public final class ClusterDns {
  private ClusterDns() {}

  /** Installs CoreDNS with this image and returns once it is available. */
  public static void install(KubernetesClient admin, String image)
      throws IOException, InterruptedException {
    String yaml;
    try (InputStream in = ClusterDns.class.getResourceAsStream("coredns.yaml")) {
      yaml =
          new String(in.readAllBytes(), StandardCharsets.UTF_8)
              .replace("{{image}}", image)
              .replace("{{ip}}", Network.DNS_IP);
    }
    List<HasMetadata> objects =
        admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
    for (HasMetadata o : objects) {
      admin.resource(o).create();
    }
    Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
    while (true) {
      Deployment d =
          admin.apps().deployments().inNamespace("kube-system").withName("coredns").get();
      if (d != null
          && d.getStatus() != null
          && d.getStatus().getAvailableReplicas() != null
          && d.getStatus().getAvailableReplicas() > 0) {
        return;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "CoreDNS is not available after 90 s: "
                + admin
                    .pods()
                    .inNamespace("kube-system")
                    .withLabel("k8s-app", "kube-dns")
                    .list()
                    .getItems());
      }
      Thread.sleep(100);
    }
  }
}
