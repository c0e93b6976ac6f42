package dev.schemagate.sandbox;

import dev.schemagate.sandbox.local.ContainerEnv;
import dev.schemagate.sandbox.local.TerminationMessage;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Plays the Job controller and the kubelet: for each Job, a Pod object; its container's environment
 * resolved from the API (a missing Secret or key: CreateContainerConfigError, as a kubelet says
 * it); its image mapped to a local command (an unmapped one: ErrImagePull, then ImagePullBackOff);
 * the command run as a local process with the termination-message file pointed at a temporary file;
 * activeDeadlineSeconds honoured; and the Pod's container state and the Job's status and conditions
 * written back the way Kubernetes writes them.
 */
public final class JobExecutor implements AutoCloseable {

  private final KubernetesClient client;
  private final ImageMap images;
  private final Path logs;
  private final Map<String, String> baseEnv;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
  private final Map<String, Run> runs = new ConcurrentHashMap<>();
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private volatile BiConsumer<Job, Instant> onFinished = (job, at) -> {};
  private SharedIndexInformer<Job> informer;
  private final ContainerEnv.Source source;

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

  public JobExecutor(
      KubernetesClient client, ImageMap images, Path logs, Map<String, String> baseEnv) {
    this.client = client;
    this.images = images;
    this.logs = logs;
    this.baseEnv = baseEnv;
    this.source =
        new ContainerEnv.Source() {
          @Override
          public Secret secret(String namespace, String name) {
            return client.secrets().inNamespace(namespace).withName(name).get();
          }

          @Override
          public ConfigMap configMap(String namespace, String name) {
            return client.configMaps().inNamespace(namespace).withName(name).get();
          }
        };
  }

  /** Told of each Job's terminal status, right after the API server took it. */
  public JobExecutor onFinished(BiConsumer<Job, Instant> listener) {
    this.onFinished = listener;
    return this;
  }

  public JobExecutor start() {
    informer =
        client
            .batch()
            .v1()
            .jobs()
            .inAnyNamespace()
            .inform(
                Handlers.onChange(
                    this::accept,
                    job -> {
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
      return run == null || run.logFile == null || !Files.exists(run.logFile)
          ? ""
          : Files.readString(run.logFile);
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
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(ns(job))
        .withName(name(job))
        .editStatus(
            j -> {
              if (j.getStatus() == null) {
                j.setStatus(new JobStatus());
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
    run.pod =
        client
            .pods()
            .inNamespace(ns(job))
            .resource(
                new PodBuilder()
                    .withNewMetadata()
                    .withName(podName)
                    .withNamespace(ns(job))
                    .withLabels(labels)
                    .withAnnotations(job.getSpec().getTemplate().getMetadata().getAnnotations())
                    .withOwnerReferences(
                        new OwnerReferenceBuilder()
                            .withApiVersion("batch/v1")
                            .withKind("Job")
                            .withName(name(job))
                            .withUid(job.getMetadata().getUid())
                            .withController(true)
                            .build())
                    .endMetadata()
                    .withSpec(job.getSpec().getTemplate().getSpec())
                    .build())
            .create();
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
      env = ContainerEnv.resolve(run.pod, container, source, "127.0.0.1");
    } catch (ContainerEnv.ConfigError e) {
      podStatus(run, "Pending", waiting(container, "CreateContainerConfigError", e.getMessage()));
      scheduler.schedule(() -> startContainer(run), 1, TimeUnit.SECONDS);
      return;
    }
    var simulated = images.simulated(container.getImage());
    if (simulated.isPresent()) {
      podStatus(
          run,
          "Running",
          new ContainerStatusBuilder()
              .withName(container.getName())
              .withImage(container.getImage())
              .withReady(true)
              .withStarted(true)
              .withRestartCount(0)
              .withNewState()
              .withNewRunning()
              .withStartedAt(Instant.now().toString())
              .endRunning()
              .endState()
              .build());
      scheduler.schedule(
          () -> {
            try {
              Files.writeString(
                  run.resultFile,
                  simulated
                      .get()
                      .result()
                      .replace(
                          "$SCHEMAGATE_TARGET_REVISION",
                          env.getOrDefault("SCHEMAGATE_TARGET_REVISION", "")));
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
            exited(run, container, 0);
          },
          simulated.get().runFor().toMillis(),
          TimeUnit.MILLISECONDS);
      return;
    }
    var image = images.find(container.getImage());
    if (image.isEmpty()) {
      boolean first =
          run.pod.getStatus() == null
              || run.pod.getStatus().getContainerStatuses() == null
              || run.pod.getStatus().getContainerStatuses().isEmpty();
      podStatus(
          run,
          "Pending",
          waiting(
              container,
              first ? "ErrImagePull" : "ImagePullBackOff",
              first
                  ? "failed to pull and unpack image \""
                      + container.getImage()
                      + "\": the sandbox has no local command mapped to it"
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
    String messagePath =
        container.getTerminationMessagePath() == null
            ? "/dev/termination-log"
            : container.getTerminationMessagePath();
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(run.logFile.toFile());
    Path workingDir =
        container.getWorkingDir() != null
            ? Path.of(container.getWorkingDir())
            : image.get().workingDir();
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    builder.environment().clear();
    builder.environment().putAll(baseEnv);
    builder.environment().putAll(image.get().env());
    env.forEach(
        (k, v) ->
            builder.environment().put(k, messagePath.equals(v) ? run.resultFile.toString() : v));
    try {
      run.process = builder.start();
    } catch (IOException e) {
      podStatus(run, "Pending", waiting(container, "RunContainerError", e.getMessage()));
      return;
    }
    podStatus(
        run,
        "Running",
        new ContainerStatusBuilder()
            .withName(container.getName())
            .withImage(container.getImage())
            .withReady(true)
            .withStarted(true)
            .withRestartCount(0)
            .withNewState()
            .withNewRunning()
            .withStartedAt(Instant.now().toString())
            .endRunning()
            .endState()
            .build());
    run.process.onExit().thenAccept(p -> exited(run, container, p.exitValue()));
  }

  private void exited(Run run, Container container, int exitCode) {
    if (run.finished) {
      return;
    }
    String message =
        TerminationMessage.read(
            run.resultFile, run.logFile, exitCode, container.getTerminationMessagePolicy());
    boolean success = exitCode == 0 && !run.deadline;
    podStatus(
        run,
        success ? "Succeeded" : "Failed",
        new ContainerStatusBuilder()
            .withName(container.getName())
            .withImage(container.getImage())
            .withReady(false)
            .withStarted(false)
            .withRestartCount(0)
            .withNewState()
            .withNewTerminated()
            .withExitCode(exitCode)
            .withReason(success ? "Completed" : "Error")
            .withMessage(message.isEmpty() ? null : message)
            .withFinishedAt(Instant.now().toString())
            .endTerminated()
            .endState()
            .build());
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
      finish(
          run,
          false,
          "Failed",
          "BackoffLimitExceeded",
          "Job has reached the specified backoff limit");
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
    finish(
        run, false, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
  }

  /** The Job's terminal status: the interim condition first, then the final one, as 1.31+ does. */
  private void finish(Run run, boolean success, String type, String reason, String message) {
    run.finished = true;
    String now = Instant.now().toString();
    List<JobCondition> conditions = new ArrayList<>();
    conditions.add(
        new JobConditionBuilder()
            .withType(success ? "SuccessCriteriaMet" : "FailureTarget")
            .withStatus("True")
            .withReason(reason)
            .withMessage(message)
            .withLastProbeTime(now)
            .withLastTransitionTime(now)
            .build());
    conditions.add(
        new JobConditionBuilder()
            .withType(type)
            .withStatus("True")
            .withReason(reason)
            .withMessage(message)
            .withLastProbeTime(now)
            .withLastTransitionTime(now)
            .build());
    Job done =
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(ns(run.job))
            .withName(name(run.job))
            .editStatus(
                j -> {
                  if (j.getStatus() == null) {
                    j.setStatus(new JobStatus());
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

  private static ContainerStatus waiting(Container container, String reason, String message) {
    return new ContainerStatusBuilder()
        .withName(container.getName())
        .withImage(container.getImage())
        .withReady(false)
        .withStarted(false)
        .withRestartCount(0)
        .withNewState()
        .withNewWaiting()
        .withReason(reason)
        .withMessage(message)
        .endWaiting()
        .endState()
        .build();
  }

  private void podStatus(Run run, String phase, ContainerStatus status) {
    run.pod =
        client
            .pods()
            .inNamespace(run.pod.getMetadata().getNamespace())
            .withName(run.pod.getMetadata().getName())
            .editStatus(
                p -> {
                  p.setStatus(
                      new PodStatusBuilder()
                          .withPhase(phase)
                          .withContainerStatuses(status)
                          .build());
                  return p;
                });
  }

  private static boolean finished(Job job) {
    return job.getStatus() != null
        && job.getStatus().getConditions() != null
        && job.getStatus().getConditions().stream()
            .anyMatch(
                c ->
                    ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))
                        && "True".equals(c.getStatus()));
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
    runs.values()
        .forEach(
            r -> {
              if (r.process != null) {
                r.process.destroyForcibly();
              }
            });
  }
}
