package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.sandbox.cluster.Daemon;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Flux on the sandbox cluster: its CRDs, and its source-controller and kustomize-controller, built
 * from their Go modules (scripts/tools), run on the node as Flux's Deployments run them (all
 * namespaces watched, no leader election: one replica each). They talk to the API server with the
 * admin kubeconfig (Flux's own distribution binds them to cluster-admin as well); the
 * source-controller serves its artifacts on the node's address, where the kustomize-controller
 * fetches them.
 */
final class Flux implements AutoCloseable {
  static final String NODE = "10.250.0.1";
  final Daemon source;
  final Daemon kustomize;

  private Flux(Daemon source, Daemon kustomize) {
    this.source = source;
    this.kustomize = kustomize;
  }

  static Flux start(Sandbox sandbox) throws Exception {
    Path tools = E2e.HOME.resolve(".tools");
    Path dir = sandbox.work.resolve("flux");
    Files.createDirectories(dir.resolve("storage"));
    Path pids = dir.resolve("pids");
    Daemon.stopLeftovers(pids);
    for (String crds : List.of("source-controller-crds", "kustomize-controller-crds")) {
      Path bases = tools.resolve("flux").resolve(crds);
      if (!Files.isDirectory(bases)) {
        throw new IllegalStateException(bases + " is missing: run scripts/tools");
      }
      kubectl(sandbox, "apply", "--server-side", "-f", bases.toRealPath().toString());
    }
    kubectl(
        sandbox,
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/gitrepositories.source.toolkit.fluxcd.io",
        "crd/kustomizations.kustomize.toolkit.fluxcd.io");
    List<String> env = List.of("KUBECONFIG=" + sandbox.kubeconfig);
    String storage = NODE + ":" + freePort(NODE);
    Daemon source =
        Daemon.start(
            "source-controller",
            List.of(
                tools.resolve("bin/source-controller").toString(),
                "--storage-path=" + dir.resolve("storage"),
                "--storage-addr=" + storage,
                "--storage-adv-addr=" + storage,
                "--metrics-addr=127.0.0.1:" + freePort("127.0.0.1"),
                "--health-addr=127.0.0.1:" + freePort("127.0.0.1"),
                "--enable-leader-election=false",
                "--log-encoding=console"),
            dir,
            pids,
            env);
    Daemon kustomize =
        Daemon.start(
            "kustomize-controller",
            List.of(
                tools.resolve("bin/kustomize-controller").toString(),
                "--metrics-addr=127.0.0.1:" + freePort("127.0.0.1"),
                "--health-addr=127.0.0.1:" + freePort("127.0.0.1"),
                "--enable-leader-election=false",
                "--no-remote-bases=true",
                "--log-encoding=console"),
            dir,
            pids,
            env);
    return new Flux(source, kustomize);
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(host, 0));
      return socket.getLocalPort();
    }
  }

  static String kubectl(Sandbox sandbox, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                sandbox.real().kubectl().toString(),
                "--kubeconfig",
                sandbox.kubeconfig.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor(90, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
    return out;
  }

  /** The controllers' logs' last characters, for a failure's report. */
  String logs() {
    return "source-controller:\n"
        + source.tail(4000)
        + "\nkustomize-controller:\n"
        + kustomize.tail(6000);
  }

  @Override
  public void close() {
    kustomize.close();
    source.close();
  }
}
