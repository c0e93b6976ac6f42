package dev.schemagate.bench;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.ThreadMXBean;
import io.fabric8.kubernetes.api.model.DefaultKubernetesResourceList;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentList;
import io.fabric8.kubernetes.api.model.apps.DeploymentListBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * 9. What reading a Deployment list costs the operator's informer (in this process, no server):
 * 11,000 realistic Deployments ({@link FootprintBench#app}) in pages of 100 as the API server sends
 * them, read as the client's full {@code Deployment} and as the operator's {@code GateDeployment}
 * (from {@code operator/target/classes}): bytes allocated and CPU per Deployment read, after
 * warm-up passes. The pages carry no {@code managedFields}, which a real API server adds to every
 * object: the full read's figures are lower than on a cluster.
 */
final class ListReadBench {
  private static final String GATE_DEPLOYMENT = "dev.schemagate.operator.kube.GateDeployment";
  private static final int PAGE = 100;

  private final Path home;
  private final Path results;

  ListReadBench(Path home, Path results) {
    this.home = home;
    this.results = results;
  }

  /** What one pass cost per Deployment read: bytes allocated and microseconds of CPU. */
  record Cost(double bytes, double micros) {}

  void run(int deployments, int passes) throws Exception {
    // the client's own configuration of Jackson (its default constructor does the same)
    ObjectMapper mapper = new ObjectMapper();
    KubernetesSerialization serialization = new KubernetesSerialization(mapper, true);
    List<byte[]> pages = pages(serialization, deployments);
    long json = pages.stream().mapToLong(p -> p.length).sum();
    Path classes = home.resolve("operator/target/classes");
    if (!Files.isDirectory(classes)) {
      throw new IllegalStateException(classes + " is missing: build the operator first");
    }
    try (URLClassLoader operator =
        new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
      Class<?> gate = Class.forName(GATE_DEPLOYMENT, true, operator);
      JavaType full = mapper.getTypeFactory().constructType(DeploymentList.class);
      JavaType slim =
          mapper
              .getTypeFactory()
              .constructParametricType(DefaultKubernetesResourceList.class, gate);
      List<Double> fullBytes = new ArrayList<>();
      List<Double> fullMicros = new ArrayList<>();
      List<Double> slimBytes = new ArrayList<>();
      List<Double> slimMicros = new ArrayList<>();
      for (int pass = 0; pass < passes + 3; pass++) {
        Cost f = read(mapper, full, pages, deployments);
        Cost s = read(mapper, slim, pages, deployments);
        if (pass >= 3) {
          fullBytes.add(f.bytes());
          fullMicros.add(f.micros());
          slimBytes.add(s.bytes());
          slimMicros.add(s.micros());
        }
      }
      double fb = Stats.of(fullBytes).median();
      double sb = Stats.of(slimBytes).median();
      double fm = Stats.of(fullMicros).median();
      double sm = Stats.of(slimMicros).median();
      new Table(
              "9. Reading "
                  + deployments
                  + " Deployments in pages of "
                  + PAGE
                  + " (median of "
                  + passes
                  + " passes after 3 of warm-up)")
          .note(
              String.format(
                  "%.1f KiB of JSON per Deployment, no managedFields (an API server adds them)."
                      + " Load average after: %s.",
                  json / 1024.0 / deployments, Machine.loadAverage()))
          .row(
              "allocated per Deployment read: Deployment / GateDeployment",
              String.format(
                  "%.1f / %.1f KiB (%.0f%% less)", fb / 1024, sb / 1024, 100 - sb * 100 / fb))
          .row(
              "CPU per Deployment read: Deployment / GateDeployment",
              String.format("%.1f / %.1f us (%.0f%% less)", fm, sm, 100 - sm * 100 / fm))
          .print(results, "9-list-read.md");
    }
  }

  private static List<byte[]> pages(KubernetesSerialization serialization, int deployments) {
    List<byte[]> pages = new ArrayList<>();
    for (int start = 0; start < deployments; start += PAGE) {
      List<Deployment> items = new ArrayList<>();
      for (int i = start; i < Math.min(deployments, start + PAGE); i++) {
        Deployment d = FootprintBench.app("ns-" + (i % 100), "app-" + i, 0);
        d.getMetadata().setResourceVersion(Integer.toString(1000 + i));
        d.getMetadata()
            .setUid(UUID.nameUUIDFromBytes(d.getMetadata().getName().getBytes()).toString());
        d.getMetadata().setCreationTimestamp("2026-11-27T00:00:00Z");
        items.add(d);
      }
      DeploymentList list =
          new DeploymentListBuilder()
              .withMetadata(new ListMetaBuilder().withResourceVersion("99999").build())
              .withItems(items)
              .build();
      pages.add(serialization.asJson(list).getBytes(StandardCharsets.UTF_8));
    }
    return pages;
  }

  /** Reads every page as {@code type}; what the pass cost this thread, per Deployment read. */
  private static Cost read(ObjectMapper mapper, JavaType type, List<byte[]> pages, int count)
      throws Exception {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long bytes = threads.getThreadAllocatedBytes(id);
    long cpu = threads.getCurrentThreadCpuTime();
    int read = 0;
    for (byte[] page : pages) {
      KubernetesResourceList<?> list = mapper.readValue(page, type);
      read += list.getItems().size();
    }
    if (read != count) {
      throw new IllegalStateException("read " + read + " Deployments of " + count);
    }
    return new Cost(
        (threads.getThreadAllocatedBytes(id) - bytes) / (double) count,
        (threads.getCurrentThreadCpuTime() - cpu) / 1000.0 / count);
  }
}
