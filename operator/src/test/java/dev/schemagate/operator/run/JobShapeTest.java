package dev.schemagate.operator.run;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.Direction;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HostAliasBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * A Job is the operator's only when it is the one JobFactory builds, whatever the API server adds.
 */
class JobShapeTest {
  static final RunInputs RUN =
      new RunInputs(
          "abcdef0123", "orders-abcdef0123", Direction.UPGRADE, IMAGE_1, IMAGE_1, "3", "2", 4);

  static Job desired() {
    return JobFactory.desired(
        withUid(migration("shop", "orders", IMAGE_1, "3")), RUN, JobDefaults.STANDARD);
  }

  /**
   * The operator's Job as the API server stores it: every default filled in, quantities respelled.
   */
  static Job asStored() {
    Job job = new JobBuilder(desired()).build();
    job.getMetadata().setUid("job-uid");
    var spec = job.getSpec();
    spec.setParallelism(1);
    spec.setCompletions(1);
    spec.setCompletionMode("NonIndexed");
    spec.setSuspend(false);
    spec.setManualSelector(false);
    spec.setPodReplacementPolicy("Failed");
    spec.setSelector(
        new LabelSelectorBuilder()
            .addToMatchLabels("batch.kubernetes.io/controller-uid", "job-uid")
            .build());
    spec.getTemplate()
        .getMetadata()
        .getLabels()
        .putAll(
            Map.of(
                "batch.kubernetes.io/controller-uid", "job-uid",
                "controller-uid", "job-uid",
                "batch.kubernetes.io/job-name", "orders-abcdef0123",
                "job-name", "orders-abcdef0123"));
    var pod = spec.getTemplate().getSpec();
    pod.setDnsPolicy("ClusterFirst");
    pod.setSchedulerName("default-scheduler");
    pod.setTerminationGracePeriodSeconds(30L);
    var container = pod.getContainers().get(0);
    container.getResources().getLimits().put("cpu", new Quantity("1000m"));
    container.getResources().getRequests().put("memory", new Quantity("256Mi"));
    return job;
  }

  static Job changed(Consumer<Job> change) {
    Job job = asStored();
    change.accept(job);
    return job;
  }

  @Test
  void theOperatorsJobAsTheApiServerStoresItIsTheJobItWouldCreate() {
    assertThat(JobShape.ofSpec(asStored()).differsFrom(JobShape.ofSpec(desired()))).isEmpty();
  }

  @Test
  void anyOtherChangeMakesItAnotherJobAndSaysWhere() {
    JobShape desired = JobShape.ofSpec(desired());
    Map<String, Job> others =
        Map.of(
            "a command",
            changed(
                j ->
                    container(j).setCommand(List.of("sh", "-c", "echo {} > /dev/termination-log"))),
            "an environment variable",
            changed(
                j -> container(j).getEnv().add(new EnvVar("DATABASE_URL", "postgresql://x", null))),
            "an image",
            changed(j -> container(j).setImage("evil.example.com/x:1")),
            "an init container",
            changed(
                j ->
                    j.getSpec()
                        .getTemplate()
                        .getSpec()
                        .setInitContainers(
                            List.of(
                                new ContainerBuilder()
                                    .withName("x")
                                    .withImage("busybox")
                                    .build()))),
            "a hostPath volume",
            changed(
                j ->
                    j.getSpec()
                        .getTemplate()
                        .getSpec()
                        .getVolumes()
                        .add(
                            new VolumeBuilder()
                                .withName("host")
                                .withNewHostPath()
                                .withPath("/")
                                .endHostPath()
                                .build())),
            "a host alias for the database's host",
            changed(
                j ->
                    j.getSpec()
                        .getTemplate()
                        .getSpec()
                        .setHostAliases(
                            List.of(
                                new HostAliasBuilder()
                                    .withIp("10.0.0.66")
                                    .withHostnames("db.shop.svc")
                                    .build()))),
            "a DNS policy",
            changed(j -> j.getSpec().getTemplate().getSpec().setDnsPolicy("Default")),
            "a backoff limit",
            changed(j -> j.getSpec().setBackoffLimit(6 + 1)),
            "a pod label",
            changed(
                j ->
                    j.getSpec()
                        .getTemplate()
                        .getMetadata()
                        .getLabels()
                        .put("sidecar.istio.io/inject", "true")),
            "a selector of another Job's",
            changed(
                j ->
                    j.getSpec()
                        .getSelector()
                        .getMatchLabels()
                        .put("batch.kubernetes.io/controller-uid", "other")));
    others.forEach(
        (what, job) -> assertThat(JobShape.ofSpec(job).differsFrom(desired)).as(what).isPresent());
    assertThat(JobShape.ofSpec(others.get("a command")).differsFrom(desired))
        .contains("spec.template.spec containers, init containers or volumes");
    assertThat(JobShape.ofSpec(others.get("a backoff limit")).differsFrom(desired))
        .contains("spec");
  }

  /** A pod the Job controller made from the template, after admission added what it adds. */
  static Pod admitted() {
    Job job = asStored();
    Pod pod =
        new PodBuilder()
            .withMetadata(job.getSpec().getTemplate().getMetadata())
            .withSpec(
                new PodBuilder().withSpec(job.getSpec().getTemplate().getSpec()).build().getSpec())
            .build();
    var spec = pod.getSpec();
    spec.setNodeName("node-1");
    spec.setServiceAccountName("default");
    spec.setServiceAccount("default");
    spec.setEnableServiceLinks(true);
    spec.setPriority(0);
    spec.setTolerations(
        List.of(
            new TolerationBuilder()
                .withKey("node.kubernetes.io/not-ready")
                .withOperator("Exists")
                .withEffect("NoExecute")
                .withTolerationSeconds(300L)
                .build()));
    // a platform that sets the user, and a mesh that adds its proxy
    PodSecurityContext security = spec.getSecurityContext();
    security.setRunAsUser(1000680000L);
    spec.getContainers()
        .add(new ContainerBuilder().withName("istio-proxy").withImage("istio/proxyv2:1").build());
    return pod;
  }

  @Test
  void aPodRunsWhatItsJobSaysWhateverAdmissionAddsBeside() {
    JobShape job = JobShape.ofSpec(asStored());
    assertThat(JobShape.ofSpec(admitted()).runsAs(job)).isTrue();
  }

  @Test
  void aPodThatRunsAnythingElseIsNotTheJobs() {
    JobShape job = JobShape.ofSpec(asStored());
    Map<String, Consumer<Pod>> changes =
        Map.of(
            "a command", p -> p.getSpec().getContainers().get(0).setCommand(List.of("sh")),
            "an argument", p -> p.getSpec().getContainers().get(0).setArgs(List.of("info")),
            "an image", p -> p.getSpec().getContainers().get(0).setImage("evil.example.com/x:1"),
            "an environment variable",
                p ->
                    p.getSpec()
                        .getContainers()
                        .get(0)
                        .getEnv()
                        .add(new EnvVar("PGHOST", "evil", null)),
            "a host alias",
                p ->
                    p.getSpec()
                        .setHostAliases(
                            List.of(
                                new HostAliasBuilder()
                                    .withIp("10.0.0.66")
                                    .withHostnames("db")
                                    .build())),
            "the host network", p -> p.getSpec().setHostNetwork(true),
            "an init container that writes into its /tmp",
                p ->
                    p.getSpec()
                        .setInitContainers(
                            List.of(
                                new ContainerBuilder()
                                    .withName("plant")
                                    .withImage("busybox")
                                    .addNewVolumeMount()
                                    .withName("tmp")
                                    .withMountPath("/tmp")
                                    .endVolumeMount()
                                    .build())),
            "no migration container", p -> p.getSpec().getContainers().get(0).setName("other"));
    changes.forEach(
        (what, change) -> {
          Pod pod = admitted();
          change.accept(pod);
          assertThat(JobShape.ofSpec(pod).runsAs(job)).as(what).isFalse();
        });
  }

  static io.fabric8.kubernetes.api.model.Container container(Job job) {
    return job.getSpec().getTemplate().getSpec().getContainers().get(0);
  }
}
