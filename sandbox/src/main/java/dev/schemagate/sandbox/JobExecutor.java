package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Plays the Job controller and the kubelet: for each Job, a Pod object; its container's
 * environment resolved from the API (a missing Secret or key: CreateContainerConfigError, as a
 * kubelet says it); its image mapped to a local command (an unmapped one: ErrImagePull, then
 * ImagePullBackOff); the command run as a local process with the termination-message file pointed
 * at a temporary file; activeDeadlineSeconds honoured; and the Pod's container state and the Job's
 * status and conditions written back the way Kubernetes writes them.
 */
public final class JobExecutor implements AutoCloseable {
  static final int MAX_MESSAGE = 4096;
  static final int FALLBACK_LOG_BYTES = 2048;
  static final int FALLBACK_LOG_LINES = 80;

  private final KubernetesClient client;
  private final ImageMap images;
  private final Path logs;
  private final Map<String, String> baseEnv;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private volatile java.util.function.BiConsumer<Job, Instant> onFinished = (job, at) -> {};
  private SharedIndexInformer<Job> informer;

  /** One Job's state. */
  private static final class Run {
    volatile Job job;
    volatile Pod pod;
    volatile Process process;
    volatile Path resultFile;
    volatile Path logFile;
    volatile int failures;
    volatile boolean finished;
    volatile boolean deadline;
  }

  public JobExecutor(KubernetesClient client, ImageMap images, Path logs, Map<String, String> baseEnv) {
    this.client = client;
    this.images = images;
    this.logs = logs;
    this.baseEnv = baseEnv;
  }

  /** Told of each Job's terminal status, right after the API server took it. */
  public JobExecutor onFinished(java.util.function.BiConsumer<Job, Instant> listener) {
    this.onFinished = listener;
    return this;
  }

  public JobExecutor start() {
    informer = client.batch().v1().jobs().inAnyNamespace().inform(Handlers.onChange(this::accept, job -> {
      Run run = runs.remove(key(job));
      if (run != null && run.process != null) {
        run.process.destroyForcibly();
      }
    }));
    return this;
  }

  /** The log of the Job's latest pod (what `kubectl logs job/NAME` would show). */
  public String log(String namespace, String job) {
    Run run = runs.get(namespace + "/" + job);
    try {
      return run == null || run.logFile == null || !Files.exists(run.logFile) ? "" : Files.readString(run.logFile);
    } catch (IOException e) {
      return "";
    }
  }

  private void accept(Job job) {
    if (!seen.add(key(job)) || finished(job)) {
      return;
    }
    Run run = new Run();
    run.job = job;
    runs.put(key(job), run);
    Instant start = Instant.now();
    client.batch().v1().jobs().inNamespace(ns(job)).withName(name(job)).editStatus(j -> {
      if (j.getStatus() == null) {
        j.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatus());
      }
      j.getStatus().setStartTime(start.toString());
      j.getStatus().setActive(1);
      return j;
    });
    Long deadline = job.getSpec().getActiveDeadlineSeconds();
    if (deadline != null) {
      scheduler.schedule(() -> deadlineExceeded(run), deadline, TimeUnit.SECONDS);
    }
    scheduler.execute(() -> attempt(run));
  }

  /** A new pod for the Job, then its container. */
  private void attempt(Run run) {
    Job job = run.job;
    String podName = name(job) + "-" + UUID.randomUUID().toString().substring(0, 5);
    Map<String, String> labels = new LinkedHashMap<>();
    if (job.getSpec().getTemplate().getMetadata().getLabels() != null) {
      labels.putAll(job.getSpec().getTemplate().getMetadata().getLabels());
    }
    labels.put("job-name", name(job));
    labels.put("batch.kubernetes.io/job-name", name(job));
    labels.put("controller-uid", job.getMetadata().getUid());
    run.pod = client.pods().inNamespace(ns(job)).resource(new PodBuilder()
        .withNewMetadata().withName(podName).withNamespace(ns(job)).withLabels(labels)
        .withAnnotations(job.getSpec().getTemplate().getMetadata().getAnnotations())
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion("batch/v1").withKind("Job").withName(name(job))
            .withUid(job.getMetadata().getUid()).withController(true).build())
        .endMetadata()
        .withSpec(job.getSpec().getTemplate().getSpec())
        .build()).create();
    try {
      run.logFile = Files.createDirectories(logs.resolve(ns(job))).resolve(podName + ".log");
      run.resultFile = Files.createTempFile(logs, "termination-", ".msg");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    startContainer(run);
  }

  /** The kubelet's loop for one container: config, image, then run. Retried while blocked. */
  private void startContainer(Run run) {
    if (run.finished || run.deadline) {
      return;
    }
    Container container = run.job.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, String> env;
    try {
      env = resolveEnv(ns(run.job), container);
    } catch (ConfigError e) {
      podStatus(run, "Pending", waiting(container, "CreateContainerConfigError", e.getMessage()));
      scheduler.schedule(() -> startContainer(run), 1, TimeUnit.SECONDS);
      return;
    }
    var simulated = images.simulated(container.getImage());
    if (simulated.isPresent()) {
      podStatus(run, "Running", new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage())
          .withReady(true).withStarted(true).withRestartCount(0)
          .withNewState().withNewRunning().withStartedAt(Instant.now().toString()).endRunning().endState().build());
      scheduler.schedule(() -> {
        try {
          Files.writeString(run.resultFile, simulated.get().result()
              .replace("$SCHEMAGATE_TARGET_REVISION", env.getOrDefault("SCHEMAGATE_TARGET_REVISION", "")));
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        exited(run, container, 0);
      }, simulated.get().runFor().toMillis(), TimeUnit.MILLISECONDS);
      return;
    }
    var image = images.find(container.getImage());
    if (image.isEmpty()) {
      boolean first = run.pod.getStatus() == null || run.pod.getStatus().getContainerStatuses() == null
          || run.pod.getStatus().getContainerStatuses().isEmpty();
      podStatus(run, "Pending", waiting(container, first ? "ErrImagePull" : "ImagePullBackOff",
          first ? "failed to pull and unpack image \"" + container.getImage() + "\": the sandbox has no local command mapped to it"
              : "Back-off pulling image \"" + container.getImage() + "\""));
      scheduler.schedule(() -> startContainer(run), 2, TimeUnit.SECONDS);
      return;
    }
    List<String> command = new ArrayList<>();
    if (container.getCommand() != null && !container.getCommand().isEmpty()) {
      command.addAll(container.getCommand());
    } else {
      command.addAll(image.get().entrypoint());
    }
    if (container.getArgs() != null) {
      command.addAll(container.getArgs());
    }
    String messagePath = container.getTerminationMessagePath() == null ? "/dev/termination-log" : container.getTerminationMessagePath();
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(run.logFile.toFile());
    Path workingDir = container.getWorkingDir() != null ? Path.of(container.getWorkingDir()) : image.get().workingDir();
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    builder.environment().clear();
    builder.environment().putAll(baseEnv);
    builder.environment().putAll(image.get().env());
    env.forEach((k, v) -> builder.environment().put(k, messagePath.equals(v) ? run.resultFile.toString() : v));
    try {
      run.process = builder.start();
    } catch (IOException e) {
      podStatus(run, "Pending", waiting(container, "RunContainerError", e.getMessage()));
      return;
    }
    podStatus(run, "Running", new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage())
        .withReady(true).withStarted(true).withRestartCount(0)
        .withNewState().withNewRunning().withStartedAt(Instant.now().toString()).endRunning().endState().build());
    run.process.onExit().thenAccept(p -> exited(run, container, p.exitValue()));
  }

  private void exited(Run run, Container container, int exitCode) {
    if (run.finished) {
      return;
    }
    String message = terminationMessage(run, container, exitCode);
    boolean success = exitCode == 0 && !run.deadline;
    podStatus(run, success ? "Succeeded" : "Failed", new ContainerStatusBuilder().withName(container.getName())
        .withImage(container.getImage()).withReady(false).withStarted(false).withRestartCount(0)
        .withNewState().withNewTerminated().withExitCode(exitCode).withReason(success ? "Completed" : "Error")
        .withMessage(message.isEmpty() ? null : message).withFinishedAt(Instant.now().toString()).endTerminated().endState().build());
    if (run.deadline) {
      return;
    }
    if (success) {
      finish(run, true, "Complete", null, null);
      return;
    }
    run.failures++;
    Integer backoffLimit = run.job.getSpec().getBackoffLimit();
    if (run.failures > (backoffLimit == null ? 6 : backoffLimit)) {
      finish(run, false, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
    } else {
      scheduler.schedule(() -> attempt(run), 1, TimeUnit.SECONDS);
    }
  }

  private void deadlineExceeded(Run run) {
    if (run.finished) {
      return;
    }
    run.deadline = true;
    if (run.process != null && run.process.isAlive()) {
      run.process.destroy();
      try {
        if (!run.process.waitFor(5, TimeUnit.SECONDS)) {
          run.process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    finish(run, false, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
  }

  /** The Job's terminal status: the interim condition first, then the final one, as 1.31+ does. */
  private void finish(Run run, boolean success, String type, String reason, String message) {
    run.finished = true;
    String now = Instant.now().toString();
    List<JobCondition> conditions = new ArrayList<>();
    conditions.add(new JobConditionBuilder().withType(success ? "SuccessCriteriaMet" : "FailureTarget").withStatus("True")
        .withReason(reason).withMessage(message).withLastProbeTime(now).withLastTransitionTime(now).build());
    conditions.add(new JobConditionBuilder().withType(type).withStatus("True").withReason(reason).withMessage(message)
        .withLastProbeTime(now).withLastTransitionTime(now).build());
    Job done = client.batch().v1().jobs().inNamespace(ns(run.job)).withName(name(run.job)).editStatus(j -> {
      if (j.getStatus() == null) {
        j.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatus());
      }
      j.getStatus().setActive(0);
      j.getStatus().setConditions(conditions);
      if (success) {
        j.getStatus().setSucceeded(1);
        j.getStatus().setCompletionTime(now);
      } else {
        j.getStatus().setFailed(Math.max(1, run.failures));
      }
      return j;
    });
    onFinished.accept(done, Instant.now());
  }

  /** What Kubernetes puts in the terminated state's message. */
  private String terminationMessage(Run run, Container container, int exitCode) {
    try {
      byte[] bytes = Files.exists(run.resultFile) ? Files.readAllBytes(run.resultFile) : new byte[0];
      if (bytes.length > MAX_MESSAGE) {
        bytes = java.util.Arrays.copyOf(bytes, MAX_MESSAGE);
      }
      String message = new String(bytes, StandardCharsets.UTF_8);
      if (message.isBlank() && exitCode != 0 && "FallbackToLogsOnError".equals(container.getTerminationMessagePolicy())) {
        List<String> lines = Files.readAllLines(run.logFile);
        String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - FALLBACK_LOG_LINES), lines.size()));
        byte[] t = tail.getBytes(StandardCharsets.UTF_8);
        message = t.length <= FALLBACK_LOG_BYTES ? tail : new String(t, t.length - FALLBACK_LOG_BYTES, FALLBACK_LOG_BYTES, StandardCharsets.UTF_8);
      }
      return message;
    } catch (IOException e) {
      return "";
    }
  }

  private Map<String, String> resolveEnv(String namespace, Container container) throws ConfigError {
    Map<String, String> env = new LinkedHashMap<>();
    if (container.getEnvFrom() != null) {
      for (EnvFromSource from : container.getEnvFrom()) {
        String prefix = from.getPrefix() == null ? "" : from.getPrefix();
        if (from.getSecretRef() != null) {
          Secret secret = client.secrets().inNamespace(namespace).withName(from.getSecretRef().getName()).get();
          if (secret == null) {
            if (!Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
              throw new ConfigError("secret \"" + from.getSecretRef().getName() + "\" not found");
            }
            continue;
          }
          secretData(secret).forEach((k, v) -> env.put(prefix + k, v));
        }
        if (from.getConfigMapRef() != null) {
          ConfigMap map = client.configMaps().inNamespace(namespace).withName(from.getConfigMapRef().getName()).get();
          if (map == null) {
            if (!Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
              throw new ConfigError("configmap \"" + from.getConfigMapRef().getName() + "\" not found");
            }
            continue;
          }
          if (map.getData() != null) {
            map.getData().forEach((k, v) -> env.put(prefix + k, v));
          }
        }
      }
    }
    if (container.getEnv() != null) {
      for (EnvVar var : container.getEnv()) {
        if (var.getValueFrom() == null) {
          env.put(var.getName(), var.getValue() == null ? "" : var.getValue());
        } else if (var.getValueFrom().getSecretKeyRef() != null) {
          var ref = var.getValueFrom().getSecretKeyRef();
          Secret secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
          String value = secret == null ? null : secretData(secret).get(ref.getKey());
          if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
            throw new ConfigError(secret == null ? "secret \"" + ref.getName() + "\" not found"
                : "couldn't find key " + ref.getKey() + " in Secret " + namespace + "/" + ref.getName());
          }
          if (value != null) {
            env.put(var.getName(), value);
          }
        } else if (var.getValueFrom().getConfigMapKeyRef() != null) {
          var ref = var.getValueFrom().getConfigMapKeyRef();
          ConfigMap map = client.configMaps().inNamespace(namespace).withName(ref.getName()).get();
          String value = map == null || map.getData() == null ? null : map.getData().get(ref.getKey());
          if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
            throw new ConfigError(map == null ? "configmap \"" + ref.getName() + "\" not found"
                : "couldn't find key " + ref.getKey() + " in ConfigMap " + namespace + "/" + ref.getName());
          }
          if (value != null) {
            env.put(var.getName(), value);
          }
        } else if (var.getValueFrom().getFieldRef() != null) {
          String path = var.getValueFrom().getFieldRef().getFieldPath();
          env.put(var.getName(), "metadata.namespace".equals(path) ? namespace : "");
        }
      }
    }
    return env;
  }

  private static Map<String, String> secretData(Secret secret) {
    Map<String, String> data = new LinkedHashMap<>();
    if (secret.getData() != null) {
      secret.getData().forEach((k, v) -> data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      data.putAll(secret.getStringData());
    }
    return data;
  }

  private static ContainerStatus waiting(Container container, String reason, String message) {
    return new ContainerStatusBuilder().withName(container.getName()).withImage(container.getImage()).withReady(false)
        .withStarted(false).withRestartCount(0)
        .withNewState().withNewWaiting().withReason(reason).withMessage(message).endWaiting().endState().build();
  }

  private void podStatus(Run run, String phase, ContainerStatus status) {
    run.pod = client.pods().inNamespace(run.pod.getMetadata().getNamespace()).withName(run.pod.getMetadata().getName())
        .editStatus(p -> {
          p.setStatus(new PodStatusBuilder().withPhase(phase).withContainerStatuses(status).build());
          return p;
        });
  }

  private static boolean finished(Job job) {
    return job.getStatus() != null && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream().anyMatch(c -> ("Complete".equals(c.getType()) || "Failed".equals(c.getType())) && "True".equals(c.getStatus()));
  }

  private static String key(Job job) {
    return ns(job) + "/" + name(job);
  }

  private static String ns(Job job) {
    return job.getMetadata().getNamespace();
  }

  private static String name(Job job) {
    return job.getMetadata().getName();
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    scheduler.shutdownNow();
    runs.values().forEach(r -> {
      if (r.process != null) {
        r.process.destroyForcibly();
      }
    });
  }

  /** A container configuration Kubernetes cannot resolve (missing Secret, ConfigMap or key). */
  static final class ConfigError extends Exception {
    ConfigError(String message) {
      super(message);
    }
  }
}
