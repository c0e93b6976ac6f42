package dev.schemagate.sandbox.kubelet;

import dev.schemagate.sandbox.ImageMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The kubelet's work for one pod bound to the sandbox's node: start each container as a local
 * process once its environment and image resolve, report its state, restart it as the pod's restart
 * policy says, and on deletion stop it (SIGTERM, SIGKILL after the grace period) and remove the
 * pod. Every method runs under the worker's lock.
 */
final class PodWorker {
  private final Kubelet kubelet;
  private final String namespace;
  private final String name;
  private final Path dir;
  private final Map<String, ContainerRun> containers = new LinkedHashMap<>();
  private final Instant startTime = Instant.now();
  private Pod pod;
  private boolean terminating;
  private boolean removed;
  private String lastStatus = "";
  private Map<String, String> serviceAccountEnv;
  private final String ip;

  PodWorker(Kubelet kubelet, Pod pod) throws IOException {
    this.kubelet = kubelet;
    this.namespace = pod.getMetadata().getNamespace();
    this.name = pod.getMetadata().getName();
    this.dir = Files.createDirectories(kubelet.podsDir.resolve(namespace).resolve(name));
    this.pod = pod;
    this.ip = kubelet.ips.take(pod.getMetadata().getUid());
    for (Container c : pod.getSpec().getContainers()) {
      containers.put(c.getName(), new ContainerRun(c, dir));
    }
  }

  synchronized void update(Pod latest) {
    pod = latest;
    sync();
  }

  /** The pod is gone from the API server: whatever still runs is killed. */
  synchronized void removed() {
    removed = true;
    containers.values().forEach(c -> Processes.kill(c.process));
    containers.values().forEach(c -> cancel(c));
  }

  boolean is(String namespace, String name) {
    return this.namespace.equals(namespace) && this.name.equals(name);
  }

  synchronized boolean running(String container) {
    ContainerRun run = containers.get(container);
    return run != null && run.running();
  }

  /** A sync from a timer: a failure is logged and tried again a second later, never lost. */
  void syncLater(Duration after) {
    kubelet.scheduler.schedule(
        () -> {
          try {
            sync();
          } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(PodWorker.class)
                .warn("pod {}/{}: {}", namespace, name, e.toString());
            syncLater(Duration.ofSeconds(1));
          }
        },
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  synchronized void sync() {
    if (removed) {
      return;
    }
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      terminate();
      return;
    }
    if (isTerminal(pod)) {
      return;
    }
    Instant now = Instant.now();
    for (ContainerRun run : containers.values()) {
      if (!run.running() && !run.done && !now.isBefore(run.nextAttempt)) {
        start(run);
      }
    }
    writeStatus();
  }

  private void start(ContainerRun run) {
    Container container = run.spec;
    if (pod.getSpec().getInitContainers() != null && !pod.getSpec().getInitContainers().isEmpty()) {
      run.waiting("CreateContainerError", "the sandbox's kubelet does not run init containers");
      run.done = true;
      return;
    }
    Map<String, String> env;
    try {
      env = ContainerEnv.resolve(pod, container, kubelet.source, ip);
    } catch (ContainerEnv.ConfigError e) {
      run.waiting("CreateContainerConfigError", e.getMessage());
      retry(run, Duration.ofSeconds(1));
      return;
    } catch (KubernetesClientException e) {
      // The Node authorizer learns of a newly bound pod a moment after the kubelet does: the
      // kubelet's own Secret cache waits for it in ContainerCreating, and so does this one.
      run.waiting("ContainerCreating", null);
      retry(run, Duration.ofMillis(200));
      return;
    }
    var simulated = kubelet.images.simulated(container.getImage());
    var image = kubelet.images.find(container.getImage());
    if (simulated.isEmpty() && image.isEmpty()) {
      boolean first = run.pullFailures++ == 0;
      run.waiting(
          first ? "ErrImagePull" : "ImagePullBackOff",
          first
              ? "failed to pull and unpack image \""
                  + container.getImage()
                  + "\": the sandbox has no local command mapped to it"
              : "Back-off pulling image \"" + container.getImage() + "\"");
      retry(run, Duration.ofSeconds(Math.min(10, 1L << Math.min(run.pullFailures, 4))));
      return;
    }
    String nonRoot =
        nonRootProblem(container, image.map(ImageMap.LocalImage::user).orElse(ImageMap.NON_ROOT));
    if (nonRoot != null) {
      run.waiting("CreateContainerConfigError", nonRoot);
      retry(run, Duration.ofSeconds(2));
      return;
    }
    try {
      run.prepareStart();
      Instant now = Instant.now();
      if (simulated.isPresent()) {
        run.imageId = ImageMap.imageId(container.getImage(), simulated.get().digest());
        Files.writeString(
            run.terminationLog,
            ContainerEnv.expand(simulated.get().result(), env)
                .replace(
                    "$SCHEMAGATE_TARGET_REVISION",
                    env.getOrDefault("SCHEMAGATE_TARGET_REVISION", "")));
        run.simulated =
            kubelet.scheduler.schedule(
                () -> exited(run, simulated.get().exitCode()),
                simulated.get().runFor().toMillis(),
                TimeUnit.MILLISECONDS);
        run.running(
            now, "sandbox://simulated/" + pod.getMetadata().getUid() + "/" + container.getName());
      } else {
        run.imageId = ImageMap.imageId(container.getImage(), image.get().digest());
        Map<String, Path> mounts =
            Volumes.mounts(container, Volumes.materialize(pod, dir, kubelet.source));
        Process process = launch(run, image.get(), env, mounts);
        run.process = process;
        run.running(now, "sandbox://" + process.pid());
        process
            .onExit()
            .thenAccept(p -> kubelet.scheduler.execute(() -> exited(run, p.exitValue())));
        probeLater(run, run.starts, initialDelay(container));
      }
      kubelet.started(
          namespace,
          name,
          container.getName(),
          container.getImage(),
          now,
          run.process == null ? -1 : run.process.pid());
    } catch (IOException e) {
      run.waiting("RunContainerError", e.getMessage());
      retry(run, Duration.ofSeconds(2));
    } catch (Volumes.MountError e) {
      run.waiting("ContainerCreating", e.getMessage());
      retry(run, Duration.ofSeconds(1));
    } catch (KubernetesClientException e) {
      run.waiting(
          "ContainerCreating",
          "MountVolume.SetUp failed for the service account token: " + apiMessage(e));
      retry(run, Duration.ofSeconds(1));
    }
  }

  private static String apiMessage(KubernetesClientException e) {
    return e.getStatus() != null && e.getStatus().getMessage() != null
        ? e.getStatus().getMessage()
        : e.getMessage();
  }

  /**
   * Starts the container's process. Paths under its volumes' mount paths, in the environment and
   * arguments its pod spec gives it, point at where the volumes really are (the image map's own
   * entrypoint and environment name places on this machine and are left as they are).
   */
  private Process launch(
      ContainerRun run,
      ImageMap.LocalImage image,
      Map<String, String> env,
      Map<String, Path> mounts)
      throws IOException {
    Container container = run.spec;
    List<String> command = new ArrayList<>();
    boolean ownCommand = container.getCommand() != null && !container.getCommand().isEmpty();
    if (ownCommand) {
      container
          .getCommand()
          .forEach(a -> command.add(Volumes.rewrite(ContainerEnv.expand(a, env), mounts)));
    } else {
      // the image's own entrypoint names places on this machine, not in the container
      command.addAll(image.entrypoint());
    }
    if (container.getArgs() != null) {
      container
          .getArgs()
          .forEach(a -> command.add(Volumes.rewrite(ContainerEnv.expand(a, env), mounts)));
    }
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(run.log.toFile());
    Path workingDir =
        container.getWorkingDir() != null && Files.isDirectory(Path.of(container.getWorkingDir()))
            ? Path.of(container.getWorkingDir())
            : image.workingDir();
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    Map<String, String> environment = builder.environment();
    environment.clear();
    environment.putAll(kubelet.baseEnv);
    environment.put("HOSTNAME", name);
    environment.put("SANDBOX_POD_IP", ip);
    environment.put("HOME", dir.toString());
    environment.put(
        "TMPDIR",
        mounts.containsKey("/tmp")
            ? mounts.get("/tmp").toString()
            : Files.createDirectories(dir.resolve("tmp")).toString());
    environment.putAll(image.env());
    environment.putAll(serviceAccount());
    String messagePath =
        container.getTerminationMessagePath() == null
            ? "/dev/termination-log"
            : container.getTerminationMessagePath();
    env.forEach(
        (k, v) ->
            environment.put(
                k,
                messagePath.equals(v)
                    ? run.terminationLog.toString()
                    : Volumes.rewrite(v, mounts)));
    return builder.start();
  }

  /**
   * A token of the pod's service account, where admission mounted one: as a kubeconfig for the
   * process.
   */
  private Map<String, String> serviceAccount() throws IOException {
    if (serviceAccountEnv == null) {
      serviceAccountEnv =
          kubelet
              .tokens
              .provision(pod, dir)
              .map(kubeconfig -> Map.of("KUBECONFIG", kubeconfig.toString()))
              .orElse(Map.of());
    }
    return serviceAccountEnv;
  }

  private static Duration initialDelay(Container container) {
    var probe =
        container.getStartupProbe() != null
            ? container.getStartupProbe()
            : container.getReadinessProbe();
    return Duration.ofSeconds(
        probe == null || probe.getInitialDelaySeconds() == null
            ? 0
            : probe.getInitialDelaySeconds());
  }

  /**
   * The startup probe until it passes, then the readiness probe, every period, while this start
   * runs.
   */
  private void probeLater(ContainerRun run, int start, Duration after) {
    Container container = run.spec;
    if (container.getStartupProbe() == null && container.getReadinessProbe() == null) {
      return;
    }
    kubelet.scheduler.schedule(
        () -> {
          boolean startup;
          synchronized (this) {
            if (removed || run.starts != start || !run.running()) {
              return;
            }
            startup = !run.startupPassed;
          }
          var probe = startup ? container.getStartupProbe() : container.getReadinessProbe();
          boolean passed = probe == null || Probes.check(probe, container, ip);
          synchronized (this) {
            if (removed || run.starts != start || !run.running()) {
              return;
            }
            if (startup) {
              run.startupPassed = passed;
              run.probedReady = passed && container.getReadinessProbe() == null;
            } else {
              run.probedReady = passed;
            }
            writeStatus();
          }
          var next =
              startup && !passed ? container.getStartupProbe() : container.getReadinessProbe();
          if (next != null) {
            int period = next.getPeriodSeconds() == null ? 10 : next.getPeriodSeconds();
            // a probe that just passed (startup) runs the readiness probe at once
            probeLater(run, start, startup && passed ? Duration.ZERO : Duration.ofSeconds(period));
          }
        },
        after.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void exited(ContainerRun run, int exitCode) {
    synchronized (this) {
      if (removed) {
        return;
      }
      kubelet.exited(
          namespace, name, run.spec.getName(), run.spec.getImage(), Instant.now(), exitCode);
      run.exited(exitCode, Instant.now());
      String policy = Objects.requireNonNullElse(pod.getSpec().getRestartPolicy(), "Always");
      boolean restart =
          !terminating
              && ("Always".equals(policy) || ("OnFailure".equals(policy) && exitCode != 0));
      if (restart) {
        run.restartCount++;
        Duration backoff =
            Duration.ofSeconds(Math.min(300, 10L << Math.min(run.restartCount - 1, 5)));
        run.waiting(
            "CrashLoopBackOff",
            "back-off "
                + backoff.toSeconds()
                + "s restarting failed container="
                + run.spec.getName()
                + " pod="
                + name
                + "_"
                + namespace
                + "("
                + pod.getMetadata().getUid()
                + ")");
        retry(run, backoff);
      } else {
        run.done = true;
      }
      if (terminating) {
        terminate();
      } else {
        writeStatus();
      }
    }
  }

  /**
   * Deletion: SIGTERM to every container, SIGKILL after the grace period, then the pod is removed.
   */
  private void terminate() {
    if (!terminating) {
      terminating = true;
      long grace =
          Objects.requireNonNullElse(
              pod.getMetadata().getDeletionGracePeriodSeconds(),
              Objects.requireNonNullElse(pod.getSpec().getTerminationGracePeriodSeconds(), 30L));
      for (ContainerRun run : containers.values()) {
        run.done = true;
        cancel(run);
        Processes.terminate(run.process);
      }
      kubelet.scheduler.schedule(
          () -> {
            synchronized (this) {
              containers.values().forEach(c -> Processes.kill(c.process));
            }
          },
          grace,
          TimeUnit.SECONDS);
    }
    if (containers.values().stream().anyMatch(ContainerRun::running)) {
      return;
    }
    if (!isTerminal(pod)) {
      writeStatus();
    }
    try {
      kubelet.client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
    removed = true;
  }

  private void cancel(ContainerRun run) {
    if (run.simulated != null) {
      run.simulated.cancel(false);
      run.simulated = null;
    }
  }

  private void retry(ContainerRun run, Duration after) {
    run.nextAttempt = Instant.now().plus(after);
    syncLater(after);
  }

  /** The kubelet's check of runAsNonRoot against the user the container runs as. */
  String nonRootProblem(Container container, String imageUser) {
    PodSecurityContext podContext = pod.getSpec().getSecurityContext();
    SecurityContext own = container.getSecurityContext();
    Boolean runAsNonRoot =
        own != null && own.getRunAsNonRoot() != null
            ? own.getRunAsNonRoot()
            : podContext == null ? null : podContext.getRunAsNonRoot();
    if (!Boolean.TRUE.equals(runAsNonRoot)) {
      return null;
    }
    Long runAsUser =
        own != null && own.getRunAsUser() != null
            ? own.getRunAsUser()
            : podContext == null ? null : podContext.getRunAsUser();
    String where =
        " (pod: \""
            + name
            + "_"
            + namespace
            + "("
            + pod.getMetadata().getUid()
            + ")\", container: "
            + container.getName()
            + ")";
    if (runAsUser != null) {
      return runAsUser == 0 ? "container's runAsUser breaks non-root policy" + where : null;
    }
    String user =
        imageUser.contains(":") ? imageUser.substring(0, imageUser.indexOf(':')) : imageUser;
    if (user.isEmpty() || "root".equals(user) || "0".equals(user)) {
      return "container has runAsNonRoot and image will run as root" + where;
    }
    if (!user.chars().allMatch(Character::isDigit)) {
      return "container has runAsNonRoot and image has non-numeric user ("
          + user
          + "), cannot verify user is non-root"
          + where;
    }
    return null;
  }

  private void writeStatus() {
    List<ContainerStatus> statuses =
        containers.values().stream().map(ContainerRun::status).toList();
    String phase = phase();
    boolean ready = !terminating && containers.values().stream().allMatch(ContainerRun::ready);
    String now = ContainerRun.time(Instant.now());
    List<PodCondition> conditions = new ArrayList<>();
    conditions.add(condition("PodReadyToStartContainers", !isTerminalPhase(phase), null, now));
    conditions.add(condition("Initialized", true, null, now));
    conditions.add(
        condition(
            "Ready",
            ready,
            ready ? null : isTerminalPhase(phase) ? "PodCompleted" : "ContainersNotReady",
            now));
    conditions.add(
        condition(
            "ContainersReady",
            ready,
            ready ? null : isTerminalPhase(phase) ? "PodCompleted" : "ContainersNotReady",
            now));
    conditions.add(condition("PodScheduled", true, null, now));
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("phase", phase);
    status.put("conditions", conditions);
    status.put("hostIP", "127.0.0.1");
    status.put("hostIPs", List.of(Map.of("ip", "127.0.0.1")));
    status.put("podIP", ip);
    status.put("podIPs", List.of(Map.of("ip", ip)));
    status.put("startTime", ContainerRun.time(startTime));
    status.put("containerStatuses", statuses);
    String identity =
        kubelet
            .client
            .getKubernetesSerialization()
            .asJson(Map.of("phase", phase, "ready", ready, "containers", statuses));
    if (identity.equals(lastStatus)) {
      return;
    }
    keepTransitionTimes(conditions);
    try {
      pod =
          kubelet
              .client
              .pods()
              .inNamespace(namespace)
              .withName(name)
              .subresource("status")
              .patch(
                  PatchContext.of(PatchType.JSON_MERGE),
                  kubelet.client.getKubernetesSerialization().asJson(Map.of("status", status)));
      lastStatus = identity;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        syncLater(Duration.ofSeconds(1));
      }
    }
  }

  /** A condition keeps the time it last changed, as the kubelet's status manager does. */
  private void keepTransitionTimes(List<PodCondition> conditions) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return;
    }
    for (PodCondition c : conditions) {
      pod.getStatus().getConditions().stream()
          .filter(
              old ->
                  old.getType().equals(c.getType())
                      && old.getStatus().equals(c.getStatus())
                      && old.getLastTransitionTime() != null)
          .findFirst()
          .ifPresent(old -> c.setLastTransitionTime(old.getLastTransitionTime()));
    }
  }

  private String phase() {
    boolean anyRunning = containers.values().stream().anyMatch(ContainerRun::running);
    boolean allDone = containers.values().stream().allMatch(c -> c.done && c.terminated != null);
    if (allDone) {
      boolean allSucceeded =
          containers.values().stream()
              .allMatch(c -> c.terminated.getTerminated().getExitCode() == 0);
      return allSucceeded ? "Succeeded" : "Failed";
    }
    if (anyRunning
        || containers.values().stream().anyMatch(c -> c.restartCount > 0 || c.terminated != null)) {
      return "Running";
    }
    return "Pending";
  }

  private static PodCondition condition(String type, boolean status, String reason, String now) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status ? "True" : "False")
        .withReason(reason)
        .withLastTransitionTime(now)
        .withLastProbeTime(null)
        .build();
  }

  static boolean isTerminal(Pod pod) {
    return pod.getStatus() != null && isTerminalPhase(pod.getStatus().getPhase());
  }

  private static boolean isTerminalPhase(String phase) {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }
}
