package dev.schemagate.bench.peers;

import dev.schemagate.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import java.util.Objects;

/** The app's side of a round: its Deployment serving an image (its rollout complete). */
public final class Rollout {
  private Rollout() {}

  /**
   * Watches the Deployment until every replica it wants runs {@code image} and is available, and no
   * pod of an older version is left (what {@code kubectl rollout status} waits for).
   */
  public static Watch<Deployment> serving(
      Sandbox sandbox, String namespace, String app, String image) {
    return Watch.until(
        sandbox.client().apps().deployments().inNamespace(namespace).withName(app),
        app + " serving " + image,
        d -> serves(d, image));
  }

  static boolean serves(Deployment d, String image) {
    DeploymentStatus s = d.getStatus();
    if (s == null
        || !image.equals(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())) {
      return false;
    }
    int wanted = Objects.requireNonNullElse(d.getSpec().getReplicas(), 1);
    return s.getObservedGeneration() != null
        && s.getObservedGeneration() >= d.getMetadata().getGeneration()
        && Objects.equals(s.getUpdatedReplicas(), wanted)
        && Objects.equals(s.getAvailableReplicas(), wanted)
        && Objects.equals(s.getReplicas(), wanted);
  }

  /** Sets the app's image (and, if given, a label of its pods), as kubectl apply of it does. */
  public static void setImage(
      Sandbox sandbox, String namespace, String app, String image, String label, String value) {
    dev.schemagate.sandbox.Demo.retryOnConflict(
        () ->
            sandbox
                .client()
                .apps()
                .deployments()
                .inNamespace(namespace)
                .withName(app)
                .edit(
                    d -> {
                      d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(image);
                      if (label != null) {
                        d.getSpec().getTemplate().getMetadata().getLabels().put(label, value);
                      }
                      return d;
                    }));
  }
}
