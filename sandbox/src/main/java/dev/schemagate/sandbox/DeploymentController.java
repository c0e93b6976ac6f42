package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Plays the Deployment controller, the ReplicaSet controller and the kubelet for app pods, enough
 * to show the gate: each Deployment that is not paused gets its replicas as pods of its current pod
 * template, created through the API server (so through its admission: see {@link
 * ApiServer#admitPodsThrough}); a pod without scheduling gates runs at once (Running, Ready), a
 * gated one waits (Pending, SchedulingGated) until someone lifts its gates; once every pod of the
 * current template runs, the pods of older templates go. A paused Deployment makes no new pods.
 * Runs no process: an app pod's start is its status.
 */
public final class DeploymentController implements AutoCloseable {
  /** The label that tells a pod's template apart, as a ReplicaSet's pods carry it. */
  static final String HASH = "pod-template-hash";

  private final KubernetesClient client;
  private final Map<String, String> rolledImage = new ConcurrentHashMap<>();
  private final ScheduledExecutorService loop =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "sandbox-deployments");
            t.setDaemon(true);
            return t;
          });
  private SharedIndexInformer<Deployment> deployments;
  private SharedIndexInformer<Pod> pods;

  public DeploymentController(KubernetesClient client) {
    this.client = client;
  }

  public DeploymentController start() {
    pods =
        client
            .pods()
            .inAnyNamespace()
            .withLabel(HASH)
            .inform(Handlers.onChange(p -> loop.execute(this::syncAll)));
    deployments =
        client
            .apps()
            .deployments()
            .inAnyNamespace()
            .inform(
                Handlers.onChange(
                    d -> loop.execute(this::syncAll), d -> loop.execute(() -> deleted(d))));
    // a pod creation the API server refused (no answer from the admission webhook yet) again
    loop.scheduleWithFixedDelay(this::syncAll, 200, 200, TimeUnit.MILLISECONDS);
    return this;
  }

  /** The image of the pod template this Deployment last rolled out ("" before any, or mid-way). */
  public String rolledOutImage(String namespace, String name) {
    return rolledImage.getOrDefault(namespace + "/" + name, "");
  }

  private void syncAll() {
    try {
      for (Deployment d : deployments.getStore().list()) {
        sync(d);
      }
    } catch (RuntimeException e) {
      // the next event or tick tries again
    }
  }

  private void sync(Deployment d) {
    String key = key(d);
    String hash = hash(client.getKubernetesSerialization().asJson(d.getSpec().getTemplate()));
    boolean paused = Boolean.TRUE.equals(d.getSpec().getPaused());
    int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    List<Pod> owned =
        pods.getStore().list().stream()
            .filter(p -> p.getMetadata().getNamespace().equals(d.getMetadata().getNamespace()))
            .filter(p -> ownedBy(p, d))
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .toList();
    List<Pod> current = owned.stream().filter(p -> hash.equals(hashOf(p))).toList();
    if (!paused) {
      for (int i = 0; i < replicas; i++) {
        String name = d.getMetadata().getName() + "-" + hash + "-" + i;
        if (current.stream().noneMatch(p -> p.getMetadata().getName().equals(name))) {
          create(d, name, hash);
        }
      }
    }
    for (Pod p : owned) {
      run(p);
    }
    long ready = current.stream().filter(DeploymentController::ready).count();
    if (!paused && ready >= replicas) {
      for (Pod old : owned) {
        if (!hash.equals(hashOf(old))) {
          delete(old);
        }
      }
    }
    List<String> templates = owned.stream().map(DeploymentController::hashOf).distinct().toList();
    boolean allReady =
        owned.size() == replicas && owned.stream().allMatch(DeploymentController::ready);
    rolledImage.put(
        key,
        templates.size() == 1 && allReady
            ? owned.get(0).getSpec().getContainers().get(0).getImage()
            : "");
    long readyAll = owned.stream().filter(DeploymentController::ready).count();
    boolean complete = templates.equals(List.of(hash)) && allReady;
    DeploymentStatus wanted =
        new DeploymentStatusBuilder()
            .withObservedGeneration(d.getMetadata().getGeneration())
            .withReplicas(owned.size())
            .withUpdatedReplicas(current.size())
            .withReadyReplicas((int) readyAll)
            .withAvailableReplicas((int) readyAll)
            .withUnavailableReplicas(Math.max(0, replicas - (int) readyAll))
            .withConditions(
                new DeploymentConditionBuilder()
                    .withType("Progressing")
                    .withStatus(paused ? "Unknown" : "True")
                    .withReason(
                        paused
                            ? "DeploymentPaused"
                            : complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated")
                    .withMessage(
                        paused
                            ? "Deployment is paused"
                            : complete
                                ? "the sandbox rolled out the pod template"
                                : "the sandbox is rolling out the pod template")
                    .build())
            .build();
    DeploymentStatus now = d.getStatus();
    if (now != null
        && Objects.equals(now.getObservedGeneration(), wanted.getObservedGeneration())
        && Objects.equals(now.getReplicas(), wanted.getReplicas())
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

  /** A pod of the Deployment's current template, created through the API server's admission. */
  private void create(Deployment d, String name, String hash) {
    ObjectMeta template = d.getSpec().getTemplate().getMetadata();
    Map<String, String> labels = new LinkedHashMap<>();
    if (template != null && template.getLabels() != null) {
      labels.putAll(template.getLabels());
    }
    labels.put(HASH, hash);
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(d.getMetadata().getNamespace())
            .withLabels(labels)
            .withAnnotations(template == null ? null : template.getAnnotations())
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("apps/v1")
                    .withKind("Deployment")
                    .withName(d.getMetadata().getName())
                    .withUid(d.getMetadata().getUid())
                    .withController(true)
                    .build())
            .endMetadata()
            .withSpec(d.getSpec().getTemplate().getSpec())
            .build();
    try {
      client.pods().inNamespace(d.getMetadata().getNamespace()).resource(pod).create();
    } catch (RuntimeException refusedOrThere) {
      // refused (the admission webhook did not answer: failurePolicy Fail), or made already
    }
  }

  /** The kubelet: a pod without scheduling gates runs; a gated one waits, and says so. */
  private void run(Pod pod) {
    boolean gated =
        pod.getSpec().getSchedulingGates() != null && !pod.getSpec().getSchedulingGates().isEmpty();
    PodStatus now = pod.getStatus();
    String phase = now == null ? null : now.getPhase();
    if (gated && phase == null) {
      setStatus(
          pod,
          new PodStatusBuilder()
              .withPhase("Pending")
              .withConditions(
                  new PodConditionBuilder()
                      .withType("PodScheduled")
                      .withStatus("False")
                      .withReason("SchedulingGated")
                      .withMessage("Scheduling is blocked due to non-empty scheduling gates")
                      .build())
              .build());
    } else if (!gated && !"Running".equals(phase)) {
      String at = Instant.now().toString();
      setStatus(
          pod,
          new PodStatusBuilder()
              .withPhase("Running")
              .withStartTime(at)
              .withConditions(
                  new PodConditionBuilder()
                      .withType("PodScheduled")
                      .withStatus("True")
                      .withLastTransitionTime(at)
                      .build(),
                  new PodConditionBuilder()
                      .withType("Ready")
                      .withStatus("True")
                      .withLastTransitionTime(at)
                      .build())
              .build());
    }
  }

  private void setStatus(Pod pod, PodStatus status) {
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .editStatus(
              p -> {
                p.setStatus(status);
                return p;
              });
    } catch (RuntimeException deletedMeanwhile) {
      // the next event brings the current object
    }
  }

  private void delete(Pod pod) {
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .delete();
    } catch (RuntimeException goneAlready) {
      // nothing to do
    }
  }

  /** The Deployment's pods go with it, as the garbage collector takes them. */
  private void deleted(Deployment d) {
    rolledImage.remove(key(d));
    for (Pod p : pods.getStore().list()) {
      if (ownedBy(p, d)) {
        delete(p);
      }
    }
  }

  static boolean ready(Pod pod) {
    return pod.getStatus() != null
        && "Running".equals(pod.getStatus().getPhase())
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static boolean ownedBy(Pod pod, Deployment d) {
    return pod.getMetadata().getOwnerReferences() != null
        && pod.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> Objects.equals(o.getUid(), d.getMetadata().getUid()));
  }

  private static String hashOf(Pod pod) {
    return pod.getMetadata().getLabels() == null ? "" : pod.getMetadata().getLabels().get(HASH);
  }

  private static String hash(String template) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(template.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String key(Deployment d) {
    return d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
  }

  @Override
  public void close() {
    loop.shutdownNow();
    if (deployments != null) {
      deployments.close();
    }
    if (pods != null) {
      pods.close();
    }
  }
}
