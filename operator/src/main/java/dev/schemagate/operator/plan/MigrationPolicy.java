package dev.schemagate.operator.plan;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.run.PinnedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What the cluster admin allows migrations to run (the chart's {@code policy} values, read at
 * start-up): which images, whether they must be pinned by digest, which service accounts Jobs may
 * run as, and whether {@code tool: custom} may run a command of its own. Pure: built from the
 * settings, checked by the planner before any Job is made.
 *
 * <p>An image pattern is matched against the image's repository (the reference without its tag or
 * digest) and against the whole reference, as written (no registry is implied: {@code postgres} is
 * not {@code images.example.org/library/postgres}); {@code *} matches any characters, '/' included,
 * and {@code *} alone allows every image.
 *
 * @param allowedImages image patterns; at least one
 * @param requireDigest whether images must be referenced by digest ({@code repo@sha256:...})
 * @param allowedServiceAccounts service account names Jobs may run as; {@code *} allows any; a Job
 *     that names none runs as the namespace's {@code default}
 * @param allowCustomCommands whether {@code tool: custom} (its own command) is allowed
 */
public record MigrationPolicy(
    List<String> allowedImages,
    boolean requireDigest,
    List<String> allowedServiceAccounts,
    boolean allowCustomCommands) {

  /** The chart's defaults: any image, the default service account only, custom commands. */
  public static final MigrationPolicy DEFAULTS =
      new MigrationPolicy(List.of("*"), false, List.of("default"), true);

  /** The service account a pod runs as when its spec names none. */
  public static final String DEFAULT_SERVICE_ACCOUNT = "default";

  private static final Pattern DIGEST = Pattern.compile(".+@sha256:[0-9a-f]{64}");

  public MigrationPolicy {
    allowedImages = clean(allowedImages);
    allowedServiceAccounts = clean(allowedServiceAccounts);
  }

  /**
   * What the spec, and the image a run would use, break of this policy: one message per rule,
   * naming the rule and the value; empty when the run may start.
   *
   * @param runImage the image the Job would run, when it is not spec.image (a downgrade runs
   *     status.currentImage); null otherwise
   */
  public List<String> violations(DatabaseMigrationSpec spec, String runImage) {
    List<String> problems = new ArrayList<>();
    checkImage("spec.image", spec.getImage(), problems);
    if (runImage != null && !runImage.equals(spec.getImage())) {
      checkImage("status.currentImage (the image a downgrade runs)", runImage, problems);
    }
    String account =
        spec.getJob() == null
                || spec.getJob().getServiceAccountName() == null
                || spec.getJob().getServiceAccountName().isBlank()
            ? DEFAULT_SERVICE_ACCOUNT
            : spec.getJob().getServiceAccountName();
    if (!allowedServiceAccounts.contains("*") && !allowedServiceAccounts.contains(account)) {
      problems.add(
          "spec.job.serviceAccountName "
              + account
              + " is not allowed: the policy allows the service accounts "
              + String.join(", ", allowedServiceAccounts));
    }
    if (spec.getTool() == Tool.CUSTOM && !allowCustomCommands) {
      problems.add(
          "spec.tool custom is not allowed: the policy allows no custom commands; use tool flyway"
              + " or alembic");
    }
    return problems;
  }

  /** Whether the image is allowed by the patterns (its digest aside). */
  public boolean imageAllowed(String image) {
    String repository = PinnedImage.repository(image);
    for (String pattern : allowedImages) {
      Pattern glob = glob(pattern);
      if (glob.matcher(repository).matches() || glob.matcher(image).matches()) {
        return true;
      }
    }
    return false;
  }

  private void checkImage(String field, String image, List<String> problems) {
    if (image == null || image.isBlank()) {
      return;
    }
    if (!imageAllowed(image)) {
      problems.add(
          field
              + " "
              + image
              + " is not allowed: the policy allows images matching "
              + String.join(", ", allowedImages));
    } else if (requireDigest && !DIGEST.matcher(image).matches()) {
      problems.add(
          field
              + " "
              + image
              + " is not pinned by digest: the policy requires images by digest"
              + " (repository@sha256:...)");
    }
  }

  private static Pattern glob(String pattern) {
    StringBuilder regex = new StringBuilder();
    for (String part : pattern.split("\\*", -1)) {
      if (!regex.isEmpty()) {
        regex.append(".*");
      }
      regex.append(Pattern.quote(part));
    }
    return Pattern.compile(regex.toString());
  }

  private static List<String> clean(List<String> values) {
    return values == null
        ? List.of()
        : values.stream().map(String::strip).filter(v -> !v.isEmpty()).toList();
  }
}
