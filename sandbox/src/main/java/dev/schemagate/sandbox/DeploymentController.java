package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Plays the Deployment controller enough to show the gate: a paused Deployment does not roll out a
 * new pod template (its updatedReplicas stay 0 for it); a resumed one does. Remembers, per
 * Deployment, the template it rolled out.
 */
public final class DeploymentController implements AutoCloseable {
  private final KubernetesClient client;
  private final Map<String, String> rolledTemplate = new ConcurrentHashMap<>();
  private final Map<String, String> rolledImage = new ConcurrentHashMap<>();
  private SharedIndexInformer<Deployment> informer;

  public DeploymentController(KubernetesClient client) {
    this.client = client;
  }

  public DeploymentController start() {
    informer =
        client
            .apps()
            .deployments()
            .inAnyNamespace()
            .inform(Handlers.onChange(this::sync, d -> rolledTemplate.remove(key(d))));
    return this;
  }

  /** The image of the pod template this Deployment last rolled out ("" before any). */
  public String rolledOutImage(String namespace, String name) {
    return rolledImage.getOrDefault(namespace + "/" + name, "");
  }

  private synchronized void sync(Deployment d) {
    String key = key(d);
    String template = client.getKubernetesSerialization().asJson(d.getSpec().getTemplate());
    boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
    if (!paused && !template.equals(rolledTemplate.get(key))) {
      rolledTemplate.put(key, template);
      rolledImage.put(key, d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage());
    }
    int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    boolean current = template.equals(rolledTemplate.get(key));
    DeploymentStatus wanted =
        new DeploymentStatusBuilder()
            .withObservedGeneration(d.getMetadata().getGeneration())
            .withReplicas(replicas)
            .withUpdatedReplicas(current ? replicas : 0)
            .withReadyReplicas(rolledTemplate.containsKey(key) ? replicas : 0)
            .withAvailableReplicas(rolledTemplate.containsKey(key) ? replicas : 0)
            .withConditions(
                new DeploymentConditionBuilder()
                    .withType("Progressing")
                    .withStatus(paused ? "Unknown" : "True")
                    .withReason(paused ? "DeploymentPaused" : "NewReplicaSetAvailable")
                    .withMessage(
                        paused ? "Deployment is paused" : "the sandbox rolled out the pod template")
                    .build())
            .build();
    DeploymentStatus now = d.getStatus();
    if (now != null
        && Objects.equals(now.getObservedGeneration(), wanted.getObservedGeneration())
        && Objects.equals(now.getUpdatedReplicas(), wanted.getUpdatedReplicas())
        && Objects.equals(now.getReadyReplicas(), wanted.getReadyReplicas())
        && now.getConditions() != null
        && !now.getConditions().isEmpty()
        && Objects.equals(
            now.getConditions().get(0).getReason(), wanted.getConditions().get(0).getReason())) {
      return;
    }
    wanted.getConditions().get(0).setLastUpdateTime(Instant.now().toString());
    try {
      client
          .apps()
          .deployments()
          .inNamespace(d.getMetadata().getNamespace())
          .withName(d.getMetadata().getName())
          .editStatus(
              x -> {
                x.setStatus(wanted);
                return x;
              });
    } catch (RuntimeException deletedMeanwhile) {
      // the next event brings the current object
    }
  }

  private static String key(Deployment d) {
    return d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
  }
}
