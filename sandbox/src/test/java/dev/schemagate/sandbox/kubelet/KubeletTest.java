package dev.schemagate.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.sandbox.ImageMap;
import dev.schemagate.sandbox.cluster.ControlPlane;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KubeletTest {
  static final Path HOME = Path.of(System.getProperty("schemagate.home", "..")).toAbsolutePath().normalize();
  static ControlPlane cp;
  static Kubelet kubelet;
  static ImageMap images = new ImageMap();

  @BeforeAll
  static void start() throws Exception {
    Path work = HOME.resolve("sandbox/target/kubelet-test");
    dev.schemagate.sandbox.Demo.clean(work);
    long t = System.nanoTime();
    cp = ControlPlane.start(ControlPlane.binaries(HOME), work.resolve("cluster"));
    System.out.println("control plane in " + (System.nanoTime() - t) / 1_000_000 + " ms");
    Path[] serving = cp.pki.issue("kubelet", "/CN=system:node:" + ControlPlane.NODE_NAME, List.of("IP:127.0.0.1", "DNS:localhost"), true);
    kubelet = new Kubelet(cp.client(cp.nodeKubeconfig()), ControlPlane.NODE_NAME, "v1.36.3", images, work.resolve("pods"),
        Map.of("PATH", "/usr/bin:/bin"), serving, cp.pki.caPem()).start();
  }

  @AfterAll
  static void stop() {
    kubelet.close();
    cp.close();
  }

  @Test
  void aJobRunsToCompletion() {
    images.map("test/echo:1", new ImageMap.LocalImage(List.of("/bin/sh", "-c", "echo hello from $NAME; echo '{\"ok\":1}' > $RESULT"), null, Map.of()));
    KubernetesClient client = cp.admin();
    client.batch().v1().jobs().inNamespace("default").resource(new JobBuilder().withNewMetadata().withName("echo").endMetadata()
        .withNewSpec().withBackoffLimit(0).withNewTemplate().withNewSpec().withRestartPolicy("Never")
        .withNewSecurityContext().withRunAsNonRoot(true).endSecurityContext()
        .addNewContainer().withName("c").withImage("test/echo:1").addNewEnv().withName("NAME").withValue("the job").endEnv().addNewEnv().withName("RESULT").withValue("/dev/termination-log").endEnv()
        .withTerminationMessagePolicy("FallbackToLogsOnError").endContainer().endSpec().endTemplate().endSpec().build()).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      Job j = client.batch().v1().jobs().inNamespace("default").withName("echo").get();
      return j.getStatus() != null && j.getStatus().getSucceeded() != null && j.getStatus().getSucceeded() == 1;
    });
    var pod = client.pods().inNamespace("default").withLabel("job-name", "echo").list().getItems().get(0);
    assertThat(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage()).contains("\"ok\":1");
    assertThat(client.pods().inNamespace("default").withName(pod.getMetadata().getName()).getLog()).contains("hello from the job");
  }
}
