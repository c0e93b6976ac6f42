package dev.schemagate.sandbox;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which local command stands for which image: the sandbox's explicit replacement for pulling one.
 * An image that is not mapped cannot be "pulled" (ErrImagePull, then ImagePullBackOff).
 */
public final class ImageMap {
  /** An image as a local program: its entrypoint, working directory and image environment. */
  public record LocalImage(List<String> entrypoint, Path workingDir, Map<String, String> env) {}

  /** An image whose container "runs" for a set time and reports a canned result (benchmarks). */
  public record Simulated(java.time.Duration runFor, String result) {}

  private final Map<String, LocalImage> images = new ConcurrentHashMap<>();
  private final Map<String, Simulated> simulated = new ConcurrentHashMap<>();

  public ImageMap simulate(String image, java.time.Duration runFor, String result) {
    simulated.put(image, new Simulated(runFor, result));
    return this;
  }

  public Optional<Simulated> simulated(String image) {
    return Optional.ofNullable(simulated.get(image));
  }

  public ImageMap map(String image, LocalImage local) {
    images.put(image, local);
    return this;
  }

  public Optional<LocalImage> find(String image) {
    return Optional.ofNullable(images.get(image));
  }

}
