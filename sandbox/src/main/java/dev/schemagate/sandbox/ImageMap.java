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

  private final Map<String, LocalImage> images = new ConcurrentHashMap<>();

  public ImageMap map(String image, LocalImage local) {
    images.put(image, local);
    return this;
  }

  public Optional<LocalImage> find(String image) {
    return Optional.ofNullable(images.get(image));
  }

  public Map<String, LocalImage> all() {
    return Map.copyOf(images);
  }
}
