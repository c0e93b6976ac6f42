package dev.schemagate.sandbox;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Which local command stands for which image: the sandbox's explicit replacement for pulling one.
 * An image that is not mapped cannot be "pulled" (ErrImagePull, then ImagePullBackOff).
 */
public final class ImageMap {
  /** The user images run as unless they say otherwise: the non-root user of distroless images. */
  public static final String NON_ROOT = "65532";

  /**
   * An image as a local program: its entrypoint, working directory, environment, and the user its
   * config declares (a number, a name, or "" for root), which the kubelet checks against {@code
   * runAsNonRoot}.
   */
  public record LocalImage(
      List<String> entrypoint, Path workingDir, Map<String, String> env, String user) {
    public LocalImage(List<String> entrypoint, Path workingDir, Map<String, String> env) {
      this(entrypoint, workingDir, env, NON_ROOT);
    }

    /** A digest of what the image is, as a registry's content digest would be. */
    public String digest() {
      return sha256(entrypoint + "|" + workingDir + "|" + new TreeMap<>(env) + "|" + user);
    }
  }

  /** An image whose container "runs" for a set time and reports a canned result (benchmarks). */
  public record Simulated(Duration runFor, String result, int exitCode) {
    public Simulated(Duration runFor, String result) {
      this(runFor, result, 0);
    }

    public String digest() {
      return sha256(runFor + "|" + result + "|" + exitCode);
    }
  }

  private final Map<String, LocalImage> images = new ConcurrentHashMap<>();
  private final Map<String, Simulated> simulated = new ConcurrentHashMap<>();

  /**
   * An image whose container runs for a set time, reports a canned result and exits with the code.
   */
  public ImageMap simulate(String image, Duration runFor, String result, int exitCode) {
    simulated.put(image, new Simulated(runFor, result, exitCode));
    return this;
  }

  public ImageMap simulate(String image, Duration runFor, String result) {
    simulated.put(image, new Simulated(runFor, result));
    return this;
  }

  public Optional<Simulated> simulated(String image) {
    return Optional.ofNullable(simulated.get(image))
        .or(() -> byDigest(image, simulated, Simulated::digest));
  }

  public ImageMap map(String image, LocalImage local) {
    images.put(image, local);
    return this;
  }

  /**
   * The image mapped to this name, or, for {@code repository@sha256:<digest>}, the mapping of that
   * repository whose digest it is (what {@link #imageId} reported for it): an image pulled by the
   * digest that ran.
   */
  public Optional<LocalImage> find(String image) {
    return Optional.ofNullable(images.get(image))
        .or(() -> byDigest(image, images, LocalImage::digest));
  }

  private static <T> Optional<T> byDigest(
      String image, Map<String, T> mapped, Function<T, String> digest) {
    int at = image.indexOf("@sha256:");
    if (at < 0) {
      return Optional.empty();
    }
    String repository = image.substring(0, at);
    String wanted = image.substring(at + "@sha256:".length());
    return mapped.entrySet().stream()
        .filter(e -> repository(e.getKey()).equals(repository))
        .filter(e -> digest.apply(e.getValue()).equals(wanted))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  private static String repository(String image) {
    return image.contains("@")
        ? image.substring(0, image.indexOf('@'))
        : image.replaceFirst(":[^:/]+$", "");
  }

  /** The image ID a container status reports: the repository with the digest of what ran. */
  public static String imageId(String image, String digest) {
    return repository(image) + "@sha256:" + digest;
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
