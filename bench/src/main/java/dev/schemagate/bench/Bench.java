package dev.schemagate.bench;

import dev.schemagate.bench.peers.Peers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmarks: bash scripts/bench [latency] [writes] [scale] [startup] [runner] [live]
 * [admission] [unrelated] [listread] [redaction] [peers] [runnerstart] (the first six by default).
 * Each prints a table and keeps it under bench/results/.
 */
public final class Bench {
  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty(
        "org.slf4j.simpleLogger.log.io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils",
        "error");
    Path home = Path.of(System.getProperty("schemagate.home", ".")).toAbsolutePath().normalize();
    Path results = home.resolve("bench/results");
    List<String> which =
        args.length == 0
            ? List.of("latency", "writes", "startup", "runner", "live", "scale")
            : List.of(args);
    ClusterBench cluster = new ClusterBench(home, results);
    int idleSeconds = Integer.parseInt(System.getProperty("bench.idle.seconds", "300"));
    for (String name : which) {
      switch (name) {
        case "latency" ->
            cluster.latency(Integer.parseInt(System.getProperty("bench.runs", "200")));
        case "writes" -> cluster.writes();
        case "scale" ->
            cluster.scale(
                Integer.parseInt(System.getProperty("bench.migrations", "1000")),
                100,
                Duration.ofSeconds(idleSeconds));
        case "startup" ->
            new StartupBench(cluster, home, results)
                .run(Integer.parseInt(System.getProperty("bench.starts", "5")));
        case "runner" ->
            new RunnerBench(home, results)
                .run(500, Integer.parseInt(System.getProperty("bench.rounds", "3")));
        case "live" -> new LiveBench(home, results).run();
        case "unrelated" ->
            new FootprintBench(cluster, home, results)
                .run(
                    Integer.parseInt(System.getProperty("bench.migrations", "1000")),
                    Integer.parseInt(System.getProperty("bench.unrelated", "10000")),
                    Integer.parseInt(System.getProperty("bench.rounds", "3")));
        case "listread" ->
            new ListReadBench(home, results)
                .run(
                    Integer.parseInt(System.getProperty("bench.unrelated", "11000")),
                    Integer.parseInt(System.getProperty("bench.rounds", "5")));
        case "redaction" -> new RedactionBench(home, results).run();
        case "peers" ->
            new Peers(home, results, Peers.defaults())
                .run(
                    Integer.parseInt(System.getProperty("bench.rounds", "20")),
                    Integer.parseInt(System.getProperty("bench.peers.migrations", "200")),
                    Arrays.stream(System.getProperty("bench.peers.rest", "1,100,1000").split(","))
                        .map(Integer::parseInt)
                        .toList(),
                    Duration.ofSeconds(
                        Integer.parseInt(System.getProperty("bench.peers.rest.seconds", "60"))));
        case "runnerstart" ->
            new RunnerStartBench(home, results)
                .run(Integer.parseInt(System.getProperty("bench.starts", "20")));
        case "admission" ->
            new AdmissionBench(home, results)
                .run(
                    Integer.parseInt(System.getProperty("bench.runs", "200")),
                    Integer.parseInt(System.getProperty("bench.creations", "200")));
        default ->
            throw new IllegalArgumentException(
                "unknown benchmark "
                    + name
                    + ": latency, writes, scale, startup, runner, live, admission, unrelated,"
                    + " listread, redaction, peers, runnerstart");
      }
    }
    System.exit(0);
  }
}
