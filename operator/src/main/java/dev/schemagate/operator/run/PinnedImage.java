package dev.schemagate.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The image a run's pod actually ran, by digest: the container's imageID ({@code repo@sha256:...},
 * or {@code docker-pullable://repo@sha256:...}) gives the digest, the Job's image the repository as
 * the user spelled it. Pure.
 */
public final class PinnedImage {
  private static final Pattern REPO_DIGEST = Pattern.compile("@(sha256:[0-9a-f]{64})$");

  private PinnedImage() {}

  /** The imageID of the migration container of the run's newest pod, or null. */
  public static String imageId(Collection<Pod> pods) {
    return PodResult.of(pods).imageId();
  }

  /**
   * {@code <repository of image>@sha256:<digest of imageId>}, or null when the imageID carries no
   * repository digest (a bare image ID such as {@code sha256:...} cannot be pulled by).
   */
  public static String pin(String image, String imageId) {
    if (image == null || imageId == null) {
      return null;
    }
    Matcher digest = REPO_DIGEST.matcher(imageId.strip());
    if (!digest.find()) {
      return null;
    }
    return repository(image) + "@" + digest.group(1);
  }

  /** The image's repository: the reference without its tag and digest. */
  public static String repository(String image) {
    String ref = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
    int colon = ref.lastIndexOf(':');
    return colon > ref.lastIndexOf('/') ? ref.substring(0, colon) : ref;
  }
}
