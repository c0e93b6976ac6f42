package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What schemagate's images do as containers on the node, as a kernel sees them: the operator and a
 * migration Job run as their images' non-root users under the chart's restricted security context,
 * their root file system mounted read-only, the Job writing only to its /tmp, the runner's JVM
 * using its image's start-up archive; the operator's JVM sizes its heap from its container's memory
 * limit, and a thousand DatabaseMigrations at rest fit in it.
 */
@ExtendWith(E2e.Reporter.class)
class ImagesOnTheNodeE2eTest {
  static final int MIGRATIONS = 1000;

  @BeforeAll
  static void sandbox() throws Exception {
    E2e.sandbox();
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "containers run on the real node only");
  }

  static RealCluster cluster() {
    return E2e.sandbox.real();
  }

  static Pod operatorPod() {
    return ((ChartOperator) E2e.sandbox.operator())
        .pods().stream()
            .filter(p -> "Running".equals(p.getStatus().getPhase()))
            .findFirst()
            .orElseThrow();
  }

  /** The mount options of "/" as the container's process sees it. */
  static String rootMountOptions(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "mountinfo"))) {
      String[] f = line.split(" ");
      if (f[4].equals("/")) {
        return f[5];
      }
    }
    throw new IllegalStateException("no root mount for process " + pid);
  }

  /** A process's real, effective, saved and file-system user ids. */
  static String uids(long pid) throws Exception {
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith("Uid:"))
        .findFirst()
        .orElseThrow()
        .substring(4)
        .trim();
  }

  static void assertRestricted(SecurityContext context) {
    assertThat(context.getReadOnlyRootFilesystem()).isTrue();
    assertThat(context.getAllowPrivilegeEscalation()).isFalse();
    assertThat(context.getCapabilities().getDrop()).contains("ALL");
  }

  /**
   * What a user sees with kubectl on the sandbox: pod addresses the CNI plugins gave (the pod
   * range), the container's log through the kubelet, and a command run in a container.
   */
  @Test
  void kubectlShowsCniAddressesReadsLogsAndExecs() throws Exception {
    E2e world = new E2e();
    Pod operator = operatorPod();
    String podIp = operator.getStatus().getPodIP();
    assertThat(podIp).as("the operator pod's address, from host-local").startsWith("10.244.0.");
    String wide =
        world.kubectl("get", "pods", "-n", ChartOperator.NAMESPACE, "-o", "wide", "--no-headers");
    assertThat(wide)
        .as("kubectl get pods -o wide")
        .contains(operator.getMetadata().getName())
        .contains(" " + podIp + " ");
    String log =
        world.kubectl(
            "logs", "-n", ChartOperator.NAMESPACE, operator.getMetadata().getName(), "--tail=200");
    assertThat(log).as("kubectl logs of the operator").isNotBlank();
    String java =
        world.kubectl(
            "exec",
            "-n",
            ChartOperator.NAMESPACE,
            operator.getMetadata().getName(),
            "-c",
            ChartOperator.CONTAINER,
            "--",
            "/deployments/jre/bin/java",
            "-version");
    assertThat(java).as("kubectl exec in the operator's container").contains("version");
    System.out.println(
        "kubectl get pods -o wide, in "
            + ChartOperator.NAMESPACE
            + ":\n"
            + wide
            + "kubectl exec ... java -version:\n"
            + java);
  }

  @Test
  void theOperatorRunsAsItsImagesUserWithAReadOnlyRoot() throws Exception {
    Pod pod = operatorPod();
    assertRestricted(pod.getSpec().getContainers().get(0).getSecurityContext());
    long pid =
        cluster()
            .node
            .pid(
                pod.getMetadata().getNamespace(),
                pod.getMetadata().getName(),
                ChartOperator.CONTAINER);
    assertThat(rootMountOptions(pid)).as("the operator's root file system").startsWith("ro");
    assertThat(uids(pid))
        .as("the image's user (185), never root")
        .matches("185\\s+185\\s+185\\s+185");
  }

  @Test
  void aMigrationJobRunsAsTheRunnersUserWithAReadOnlyRootAndReportsItsResult() throws Exception {
    E2e world = new E2e().createDatabase();
    String image =
        E2e.runnerImage(
            "e2e/slow-create:1",
            Map.of(
                "V1__create.sql",
                "CREATE TABLE t (id int);",
                "V2__wait.sql",
                "SELECT pg_sleep(6);"));
    world.secret("orders-db", world.url());
    world.migration("orders", spec(image, "latest", "orders-db"));
    Pod[] running = new Pod[1];
    eventually()
        .until(
            () -> {
              List<Job> jobs = world.jobs();
              if (jobs.isEmpty()) {
                return false;
              }
              running[0] =
                  world
                      .client()
                      .pods()
                      .inNamespace(world.ns)
                      .withLabel("job-name", jobs.get(0).getMetadata().getName())
                      .list()
                      .getItems()
                      .stream()
                      .filter(p -> "Running".equals(p.getStatus().getPhase()))
                      .findFirst()
                      .orElse(null);
              return running[0] != null;
            });
    Pod pod = running[0];
    assertRestricted(pod.getSpec().getContainers().get(0).getSecurityContext());
    long pid =
        cluster()
            .node
            .pid(
                world.ns,
                pod.getMetadata().getName(),
                pod.getSpec().getContainers().get(0).getName());
    assertThat(rootMountOptions(pid)).as("the Job's root file system").startsWith("ro");
    assertThat(uids(pid))
        .as("the runner image's user (65532)")
        .matches("65532\\s+65532\\s+65532\\s+65532");
    // a start-up archive that does not match the runtime is ignored without an error: the JVM
    // that uses it has it mapped
    assertThat(Files.readString(Path.of("/proc", Long.toString(pid), "maps")))
        .as("the runner's JVM uses its image's start-up archive")
        .containsPattern("/opt/schemagate/runner\\.(aot|jsa)\\n");
    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("2");
    assertThat(world.history("orders").get(0).get("applied")).asList().hasSize(2);
  }

  @Test
  void theOperatorsHeapComesFromItsMemoryLimitAndAThousandMigrationsFitInIt() throws Exception {
    Pod pod = operatorPod();
    long limit =
        pod.getSpec()
            .getContainers()
            .get(0)
            .getResources()
            .getLimits()
            .get("memory")
            .getNumericalAmount()
            .longValue();
    double percent = javaOption(pod, "MaxRAMPercentage");
    long heap = heapMax(pod);
    System.out.printf(
        "operator: memory limit %d MiB, heap max %d MiB (%.0f%% configured)%n",
        limit >> 20, heap >> 20, percent);
    assertThat((double) heap)
        .as("the JVM's heap is its share of the container's limit, not of the machine's memory")
        .isBetween(limit * (percent - 5) / 100, limit * (percent + 2) / 100);

    E2e world = new E2e();
    world.secret("orders-db", "postgresql://nowhere/none");
    for (int i = 0; i < MIGRATIONS; i++) {
      GenericKubernetesResource dbm = new GenericKubernetesResource();
      dbm.setApiVersion("schemagate.dev/v1alpha1");
      dbm.setKind("DatabaseMigration");
      dbm.setMetadata(new ObjectMetaBuilder().withName("m-" + i).withNamespace(world.ns).build());
      Map<String, Object> spec = new HashMap<>(spec("e2e/none:1", "1", "orders-db"));
      spec.put("suspend", true);
      dbm.setAdditionalProperty("spec", spec);
      world.client().resource(dbm).inNamespace(world.ns).create();
    }
    E2e.eventually()
        .atMost(Duration.ofMinutes(5))
        .pollInterval(Duration.ofSeconds(2))
        .until(
            () ->
                world
                        .client()
                        .genericKubernetesResources("schemagate.dev/v1alpha1", "DatabaseMigration")
                        .inNamespace(world.ns)
                        .list()
                        .getItems()
                        .stream()
                        .filter(d -> d.getAdditionalProperties().get("status") != null)
                        .count()
                    == MIGRATIONS);
    Pod after = operatorPod();
    long used =
        cluster()
            .node
            .memoryUsage(
                after.getMetadata().getNamespace(),
                after.getMetadata().getName(),
                ChartOperator.CONTAINER);
    System.out.printf(
        "operator with %d DatabaseMigrations: %d MiB of its %d MiB limit in use%n",
        MIGRATIONS, used >> 20, limit >> 20);
    assertThat(after.getMetadata().getName()).isEqualTo(pod.getMetadata().getName());
    assertThat(after.getStatus().getContainerStatuses().get(0).getRestartCount())
        .as("no restart (an OOM kill would restart it)")
        .isZero();
    assertThat(used).as("memory in use, within the chart's limit").isLessThan(limit);
    world.client().namespaces().withName(world.ns).delete();
  }

  /** A -XX option of the chart's JAVA_TOOL_OPTIONS for the operator. */
  static double javaOption(Pod pod, String option) {
    String options =
        pod.getSpec().getContainers().get(0).getEnv().stream()
            .filter(e -> "JAVA_TOOL_OPTIONS".equals(e.getName()))
            .findFirst()
            .orElseThrow()
            .getValue();
    Matcher m = Pattern.compile("-XX:" + option + "=([0-9.]+)").matcher(options);
    assertThat(m.find()).as(options).isTrue();
    return Double.parseDouble(m.group(1));
  }

  /** The heap's maximum the operator's JVM reports on /metrics (the sum of its pools'). */
  static long heapMax(Pod pod) throws Exception {
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://" + pod.getStatus().getPodIP() + ":8080/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    double sum = 0;
    Matcher m =
        Pattern.compile("(?m)^jvm_memory_max_bytes\\{[^}]*area=\"heap\"[^}]*\\}\\s+([0-9.eE+-]+)$")
            .matcher(metrics.body());
    while (m.find()) {
      double v = Double.parseDouble(m.group(1));
      if (v > 0) {
        sum += v;
      }
    }
    assertThat(sum).as("heap pools on /metrics").isPositive();
    return (long) sum;
  }
}
