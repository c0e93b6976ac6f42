package dev.schemagate.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a person watching a DatabaseMigration sees during a release: {@code kubectl get dbm NAME -w}
 * itself on the real control plane (its lines, without the repeats that differ only in AGE), and
 * the phases it goes through, read from its status every 100 ms (phase, current revision,
 * status.contract.phase), each with when it was first seen.
 */
final class DbmWatch implements AutoCloseable {
  /** One state of the DatabaseMigration, and when it was first seen. */
  record Seen(Instant at, String phase, String currentRevision, String contractPhase) {
    @Override
    public String toString() {
      return at
          + "  "
          + phase
          + "  current="
          + currentRevision
          + (contractPhase == null ? "" : "  contract=" + contractPhase);
    }
  }

  private final E2e world;
  private final String name;
  private final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  private final Thread poller;
  private final Process kubectl;
  private final Path kubectlOut;
  private volatile boolean stop;

  DbmWatch(E2e world, String name) throws IOException {
    this.world = world;
    this.name = name;
    if (world.on.cluster instanceof RealCluster real) {
      kubectlOut = world.on.work.resolve("kubectl-get-dbm-w-" + world.ns + ".txt");
      kubectl =
          new ProcessBuilder(
                  real.kubectl().toString(),
                  "--kubeconfig",
                  world.on.kubeconfig.toString(),
                  "--namespace",
                  world.ns,
                  "get",
                  "dbm",
                  name,
                  "-w")
              .redirectErrorStream(true)
              .redirectOutput(kubectlOut.toFile())
              .start();
    } else {
      kubectlOut = null;
      kubectl = null;
    }
    poller = new Thread(this::poll, "watch-" + name);
    poller.setDaemon(true);
    poller.start();
  }

  @SuppressWarnings("unchecked")
  private void poll() {
    while (!stop) {
      try {
        Map<String, Object> status = world.status(name);
        Map<String, Object> contract = (Map<String, Object>) status.get("contract");
        Seen now =
            new Seen(
                Instant.now(),
                String.valueOf(status.get("phase")),
                String.valueOf(status.get("currentRevision")),
                contract == null ? null : String.valueOf(contract.get("phase")));
        synchronized (seen) {
          Seen before = seen.isEmpty() ? null : seen.get(seen.size() - 1);
          if (before == null
              || !before.phase().equals(now.phase())
              || !before.currentRevision().equals(now.currentRevision())
              || !Objects.equals(before.contractPhase(), now.contractPhase())) {
            seen.add(now);
          }
        }
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // the API server was busy: the next poll reads again
      }
    }
  }

  /** The states seen, oldest first. */
  List<Seen> seen() {
    synchronized (seen) {
      return List.copyOf(seen);
    }
  }

  /** The phases seen, oldest first, a phase again only after another. */
  List<String> phases() {
    List<String> phases = new ArrayList<>();
    for (Seen s : seen()) {
      if (phases.isEmpty() || !phases.get(phases.size() - 1).equals(s.phase())) {
        phases.add(s.phase());
      }
    }
    return phases;
  }

  /**
   * The lines kubectl get dbm -w printed: its header and each line that differs from the one before
   * in more than its AGE (empty on the embedded sandbox, which has no kubectl).
   */
  List<String> kubectlLines() throws IOException {
    if (kubectlOut == null || !Files.exists(kubectlOut)) {
      return List.of();
    }
    List<String> lines = new ArrayList<>();
    String before = null;
    for (String line : Files.readAllLines(kubectlOut, StandardCharsets.UTF_8)) {
      String key = line.replaceAll("\\s\\d+[smhd](\\d+[smh])?(\\s|$)", " ").trim();
      if (!key.equals(before)) {
        lines.add(line);
      }
      before = key;
    }
    return lines;
  }

  @Override
  public void close() throws Exception {
    stop = true;
    poller.interrupt();
    poller.join(10_000);
    if (kubectl != null) {
      kubectl.destroy();
      kubectl.waitFor();
    }
  }
}
