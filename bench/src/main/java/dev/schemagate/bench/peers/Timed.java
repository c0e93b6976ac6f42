package dev.schemagate.bench.peers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to its end under /usr/bin/time: its output and the CPU seconds it used. */
record Timed(int exit, String output, double cpuSeconds) {
  static Timed run(Path work, List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    Path times = Files.createTempFile(Files.createDirectories(work), "time", ".txt");
    List<String> timed =
        new ArrayList<>(List.of("/usr/bin/time", "-o", times.toString(), "-f", "%U %S"));
    timed.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(timed).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " ran over 10 minutes");
    }
    List<String> lines = Files.readAllLines(times);
    Files.delete(times);
    String[] f = lines.get(lines.size() - 1).trim().split(" ");
    return new Timed(p.exitValue(), out, Double.parseDouble(f[0]) + Double.parseDouble(f[1]));
  }

  /** Fails unless the command exited with 0. */
  Timed ok(String what) {
    if (exit != 0) {
      throw new IllegalStateException(what + " exited with " + exit + ": " + output);
    }
    return this;
  }
}
