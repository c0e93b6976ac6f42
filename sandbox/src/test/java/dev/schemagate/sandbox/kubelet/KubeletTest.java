package dev.schemagate.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.sandbox.ImageMap;
import dev.schemagate.sandbox.cluster.ControlPlane;
import dev.schemagate.sandbox.cluster.Daemon;
import io.fabric8.kubernetes.api.model.ContainerStateWaiting;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sandbox's kubelet against the real control plane: what a pod's author would see. */
class KubeletTest {
  static final Path HOME =
      Path.of(System.getProperty("schemagate.home", "..")).toAbsolutePath().normalize();
  static ControlPlane cp;
  static Kubelet kubelet;
  static final ImageMap IMAGES = new ImageMap();
  String ns;

  @BeforeAll
  static void start() throws Exception {
    Path work = HOME.resolve("sandbox/target/kubelet-test");
    dev.schemagate.sandbox.Demo.clean(work);
    cp = ControlPlane.start(ControlPlane.binaries(HOME), work.resolve("cluster"));
    Path[] serving =
        cp.pki.issue(
            "kubelet",
            "/CN=system:node:" + ControlPlane.NODE_NAME,
            List.of("IP:127.0.0.1", "DNS:localhost"),
            true);
    kubelet =
        new Kubelet(
                cp.client(cp.nodeKubeconfig()),
                ControlPlane.NODE_NAME,
                "v1.36.3",
                IMAGES,
                work.resolve("pods"),
                Map.of("PATH", "/usr/bin:/bin"),
                serving,
                cp.pki.caPem())
            .start();
    Path kubectl = ControlPlane.binaries(HOME).resolve("kubectl");
    IMAGES.map("test/shell:1", new ImageMap.LocalImage(List.of("/bin/sh", "-c"), null, Map.of()));
    IMAGES.map("test/root:1", new ImageMap.LocalImage(List.of("/bin/true"), null, Map.of(), ""));
    IMAGES.map(
        "test/named-user:1",
        new ImageMap.LocalImage(List.of("/bin/true"), null, Map.of(), "appuser"));
    IMAGES.map(
        "test/kubectl:1", new ImageMap.LocalImage(List.of(kubectl.toString()), null, Map.of()));
  }

  /** Closing the control plane and the kubelet leaves no process of theirs behind. */
  @AfterAll
  static void stop() {
    List<Long> pids = new ArrayList<>();
    cp.daemons().forEach(d -> pids.add(d.pid()));
    kubelet.starts().forEach(s -> pids.add(s.pid()));
    kubelet.close();
    cp.close();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(pids)
                    .filteredOn(
                        pid -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
                    .as("processes left")
                    .isEmpty());
    assertThat(cp.daemons()).noneMatch(Daemon::isAlive);
  }

  @BeforeEach
  void namespace() {
    ns = "k-" + UUID.randomUUID().toString().substring(0, 6);
    client()
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    await()
        .until(() -> client().serviceAccounts().inNamespace(ns).withName("default").get() != null);
  }

  static KubernetesClient client() {
    return cp.admin();
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100));
  }

  @Test
  void theNodeIsReadyAndItsLeaseIsRenewed() {
    var node = client().nodes().withName(ControlPlane.NODE_NAME).get();
    assertThat(node.getStatus().getConditions())
        .anySatisfy(c -> assertThat(c.getType() + "=" + c.getStatus()).isEqualTo("Ready=True"));
    assertThat(node.getStatus().getAllocatable().get("pods").getAmount()).isEqualTo("1100");
    var lease =
        client().leases().inNamespace("kube-node-lease").withName(ControlPlane.NODE_NAME).get();
    assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(ControlPlane.NODE_NAME);
  }

  @Test
  void aJobRunsToCompletionWithItsResultAndLogsWhereKubectlLooks() {
    client()
        .batch()
        .v1()
        .jobs()
        .inNamespace(ns)
        .resource(
            new JobBuilder()
                .withNewMetadata()
                .withName("echo")
                .endMetadata()
                .withNewSpec()
                .withBackoffLimit(0)
                .withNewTemplate()
                .withNewSpec()
                .withRestartPolicy("Never")
                .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .endSecurityContext()
                .addNewContainer()
                .withName("c")
                .withImage("test/shell:1")
                .withArgs("echo hello from $(NAME); echo '{\"ok\":1}' > $RESULT")
                .addNewEnv()
                .withName("NAME")
                .withValue("the job")
                .endEnv()
                .addNewEnv()
                .withName("RESULT")
                .withValue("/dev/termination-log")
                .endEnv()
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();
    eventually()
        .until(
            () -> {
              Job j = client().batch().v1().jobs().inNamespace(ns).withName("echo").get();
              return j.getStatus() != null
                  && j.getStatus().getSucceeded() != null
                  && j.getStatus().getSucceeded() == 1;
            });
    Pod pod =
        client().pods().inNamespace(ns).withLabel("job-name", "echo").list().getItems().get(0);
    var terminated = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isZero();
    assertThat(terminated.getMessage()).isEqualTo("{\"ok\":1}\n");
    assertThat(pod.getStatus().getPhase()).isEqualTo("Succeeded");
    assertThat(pod.getStatus().getContainerStatuses().get(0).getImageID())
        .startsWith("test/shell@sha256:");
    // through the API server to the kubelet's log endpoint, as kubectl logs goes
    assertThat(client().pods().inNamespace(ns).withName(pod.getMetadata().getName()).getLog())
        .isEqualTo("hello from the job\n");
  }

  @Test
  void aFailedContainerFallsBackToItsLogForTheMessage() {
    Pod pod = run(pod("fails", "test/shell:1", "echo 'line one'; echo 'it broke' >&2; exit 3"));
    eventually().until(() -> "Failed".equals(get(pod).getStatus().getPhase()));
    var terminated = get(pod).getStatus().getContainerStatuses().get(0).getState().getTerminated();
    assertThat(terminated.getExitCode()).isEqualTo(3);
    assertThat(terminated.getReason()).isEqualTo("Error");
    assertThat(terminated.getMessage()).isEqualTo("line one\nit broke");
  }

  @Test
  void eachPodHasItsOwnAddressAndIsReadyWhenItsProbeSays() {
    List<Pod> servers = new ArrayList<>();
    for (String name : List.of("web-a", "web-b")) {
      servers.add(
          run(
              new PodBuilder(
                      pod(
                          name,
                          "test/shell:1",
                          "sleep 2; exec python3 -m http.server 8000 --bind \"$POD_IP\""))
                  .editSpec()
                  .withRestartPolicy("Always")
                  .editFirstContainer()
                  .addNewEnv()
                  .withName("POD_IP")
                  .withNewValueFrom()
                  .withNewFieldRef()
                  .withFieldPath("status.podIP")
                  .endFieldRef()
                  .endValueFrom()
                  .endEnv()
                  .addNewPort()
                  .withName("http")
                  .withContainerPort(8000)
                  .endPort()
                  .withNewReadinessProbe()
                  .withNewHttpGet()
                  .withPath("/")
                  .withNewPort("http")
                  .endHttpGet()
                  .withPeriodSeconds(1)
                  .endReadinessProbe()
                  .endContainer()
                  .endSpec()
                  .build()));
    }
    eventually()
        .until(
            () -> servers.stream().allMatch(p -> "Running".equals(get(p).getStatus().getPhase())));
    assertThat(servers)
        .allSatisfy(p -> assertThat(ready(p)).as("not ready before the server listens").isFalse());
    eventually().until(() -> servers.stream().allMatch(this::ready));
    List<String> ips = servers.stream().map(p -> get(p).getStatus().getPodIP()).toList();
    assertThat(ips)
        .doesNotHaveDuplicates()
        .allSatisfy(
            ip -> assertThat(ip).startsWith(kubelet.podNetworkRoutable() ? "10.244." : "127.0."));
  }

  private boolean ready(Pod pod) {
    return get(pod).getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  @Test
  void aMissingSecretIsCreateContainerConfigErrorUntilItExists() {
    Pod pod =
        new PodBuilder(pod("needs-secret", "test/shell:1", "echo $PASSWORD"))
            .editSpec()
            .editFirstContainer()
            .addNewEnvFrom()
            .withNewSecretRef()
            .withName("db")
            .endSecretRef()
            .endEnvFrom()
            .endContainer()
            .endSpec()
            .build();
    run(pod);
    eventually()
        .until(
            () ->
                "CreateContainerConfigError"
                    .equals(waiting(pod).map(ContainerStateWaiting::getReason).orElse("")));
    assertThat(waiting(pod).get().getMessage()).isEqualTo("secret \"db\" not found");
    client()
        .secrets()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withName("db")
                .endMetadata()
                .addToStringData("PASSWORD", "s3cret")
                .build())
        .create();
    eventually().until(() -> "Succeeded".equals(get(pod).getStatus().getPhase()));
    assertThat(kubelet.log(ns, "needs-secret", "c")).isEqualTo("s3cret\n");
  }

  @Test
  void runAsNonRootIsCheckedAgainstTheImagesUser() {
    Pod root = run(pod("root", "test/root:1", null));
    Pod named = run(pod("named", "test/named-user:1", null));
    eventually().until(() -> waiting(root).isPresent() && waiting(named).isPresent());
    assertThat(waiting(root).get().getReason()).isEqualTo("CreateContainerConfigError");
    assertThat(waiting(root).get().getMessage())
        .startsWith("container has runAsNonRoot and image will run as root (pod: \"root_" + ns);
    assertThat(waiting(named).get().getMessage())
        .startsWith(
            "container has runAsNonRoot and image has non-numeric user (appuser), cannot verify user is non-root");
    Pod numeric =
        new PodBuilder(pod("numeric", "test/named-user:1", null))
            .editSpec()
            .editSecurityContext()
            .withRunAsUser(1000L)
            .endSecurityContext()
            .endSpec()
            .build();
    run(numeric);
    eventually().until(() -> "Succeeded".equals(get(numeric).getStatus().getPhase()));
  }

  /**
   * A container reports the digest of what ran as its imageID, as containerd does; an image named
   * by that digest (repository@sha256:...) runs the same mapping, another digest cannot be pulled.
   */
  @Test
  void aContainerReportsItsImageIdAndThatDigestRunsTheSameImage() {
    Pod first = run(pod("first", "test/shell:1", "echo by-tag"));
    eventually().until(() -> "Succeeded".equals(get(first).getStatus().getPhase()));
    String imageId = get(first).getStatus().getContainerStatuses().get(0).getImageID();
    assertThat(imageId).matches("test/shell@sha256:[0-9a-f]{64}");
    Pod pinned = run(pod("pinned", imageId, "echo by-digest"));
    eventually().until(() -> "Succeeded".equals(get(pinned).getStatus().getPhase()));
    assertThat(get(pinned).getStatus().getContainerStatuses().get(0).getImageID())
        .isEqualTo(imageId);
    Pod other = run(pod("other", "test/shell@sha256:" + "0".repeat(64), "echo never"));
    eventually()
        .until(
            () ->
                "ErrImagePull"
                    .equals(waiting(other).map(ContainerStateWaiting::getReason).orElse("")));
  }

  @Test
  void anUnmappedImageCannotBePulled() {
    Pod pod = run(pod("nowhere", "registry.example.com/nowhere:1", null));
    eventually()
        .until(
            () ->
                "ErrImagePull"
                    .equals(waiting(pod).map(ContainerStateWaiting::getReason).orElse("")));
    eventually()
        .until(
            () ->
                "ImagePullBackOff"
                    .equals(waiting(pod).map(ContainerStateWaiting::getReason).orElse("")));
    assertThat(get(pod).getStatus().getPhase()).isEqualTo("Pending");
  }

  @Test
  void deletionSendsSigtermThenSigkillAfterTheGracePeriod() {
    Pod polite =
        run(
            new PodBuilder(
                    pod(
                        "polite",
                        "test/shell:1",
                        "trap 'echo stopping; exit 0' TERM; while true; do sleep 0.1; done"))
                .editSpec()
                .withTerminationGracePeriodSeconds(30L)
                .endSpec()
                .build());
    Pod stubborn =
        run(
            new PodBuilder(
                    pod("stubborn", "test/shell:1", "trap '' TERM; while true; do sleep 0.1; done"))
                .editSpec()
                .withTerminationGracePeriodSeconds(2L)
                .endSpec()
                .build());
    eventually()
        .until(
            () ->
                "Running".equals(get(polite).getStatus().getPhase())
                    && "Running".equals(get(stubborn).getStatus().getPhase()));
    long started = System.nanoTime();
    client().pods().inNamespace(ns).withName("polite").delete();
    client().pods().inNamespace(ns).withName("stubborn").delete();
    eventually().until(() -> get(polite) == null);
    assertThat(kubelet.log(ns, "polite", "c")).contains("stopping");
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the polite one is gone at once")
        .isLessThan(Duration.ofSeconds(2));
    eventually().until(() -> get(stubborn) == null);
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("the stubborn one after its grace period")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aPodGetsItsServiceAccountsTokenAndIsHeldToItsRbac() {
    Pod pod =
        new PodBuilder(pod("whoami", "test/kubectl:1", null))
            .editSpec()
            .withAutomountServiceAccountToken(true)
            .editFirstContainer()
            .withArgs("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
            .endContainer()
            .endSpec()
            .build();
    run(pod);
    eventually().until(() -> "Succeeded".equals(get(pod).getStatus().getPhase()));
    assertThat(kubelet.log(ns, "whoami", "c"))
        .isEqualTo("system:serviceaccount:" + ns + ":default");
    Pod denied =
        new PodBuilder(pod("denied", "test/kubectl:1", null))
            .editSpec()
            .withAutomountServiceAccountToken(true)
            .editFirstContainer()
            .withArgs("get", "secrets")
            .endContainer()
            .endSpec()
            .build();
    run(denied);
    eventually().until(() -> "Failed".equals(get(denied).getStatus().getPhase()));
    assertThat(kubelet.log(ns, "denied", "c"))
        .contains("forbidden", "cannot list resource \"secrets\"");
  }

  private Pod pod(String name, String image, String script) {
    var container =
        new io.fabric8.kubernetes.api.model.ContainerBuilder()
            .withName("c")
            .withImage(image)
            .withTerminationMessagePolicy("FallbackToLogsOnError");
    if (script != null) {
      container.withArgs(script);
    }
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(ns)
        .endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .endSecurityContext()
        .withContainers(container.build())
        .endSpec()
        .build();
  }

  private Pod run(Pod pod) {
    return client().pods().inNamespace(ns).resource(pod).create();
  }

  private Pod get(Pod pod) {
    return client().pods().inNamespace(ns).withName(pod.getMetadata().getName()).get();
  }

  private java.util.Optional<ContainerStateWaiting> waiting(Pod pod) {
    Pod now = get(pod);
    if (now == null
        || now.getStatus() == null
        || now.getStatus().getContainerStatuses() == null
        || now.getStatus().getContainerStatuses().isEmpty()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.ofNullable(
        now.getStatus().getContainerStatuses().get(0).getState().getWaiting());
  }
}
