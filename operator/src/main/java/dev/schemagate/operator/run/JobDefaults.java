package dev.schemagate.operator.run;

import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a migration Job gets when its DatabaseMigration's spec.job sets nothing: its deadline, the
 * container's resource requests and limits, and the size limit of its {@code /tmp} emptyDir. Set by
 * the cluster admin (the chart's values); each may be overridden in spec.job.
 *
 * @param deadlineSeconds activeDeadlineSeconds
 * @param requests resource requests by name (cpu, memory, ...)
 * @param limits resource limits by name
 * @param tmpSizeLimit the emptyDir's sizeLimit; null for none
 * @param alembicKit the image of the Alembic kit, which an Alembic Job's init container copies into
 *     the pod (the chart's, of the operator's own release); null when the operator was given none,
 *     and then no Alembic run starts
 */
public record JobDefaults(
    long deadlineSeconds,
    Map<String, Quantity> requests,
    Map<String, Quantity> limits,
    Quantity tmpSizeLimit,
    String alembicKit) {

  /**
   * The chart's defaults: 900 s, 100m CPU and 256Mi requested, 1 CPU and 512Mi at most, 256Mi of
   * /tmp.
   */
  public static final JobDefaults STANDARD = of(900, "100m", "256Mi", "1", "512Mi", "256Mi");

  public JobDefaults {
    requests = Map.copyOf(requests);
    limits = Map.copyOf(limits);
  }

  /** The standard resources with another deadline. */
  public static JobDefaults withDeadline(long deadlineSeconds) {
    return new JobDefaults(
        deadlineSeconds, STANDARD.requests, STANDARD.limits, STANDARD.tmpSizeLimit, null);
  }

  /** These defaults, with this Alembic kit image (blank: none). */
  public JobDefaults withAlembicKit(String image) {
    return new JobDefaults(
        deadlineSeconds, requests, limits, tmpSizeLimit, isSet(image) ? image.strip() : null);
  }

  /** Defaults from settings; a blank value or "none" leaves that one unset. */
  public static JobDefaults of(
      long deadlineSeconds,
      String cpuRequest,
      String memoryRequest,
      String cpuLimit,
      String memoryLimit,
      String tmpSizeLimit) {
    Map<String, Quantity> requests = new LinkedHashMap<>();
    Map<String, Quantity> limits = new LinkedHashMap<>();
    put(requests, "cpu", cpuRequest);
    put(requests, "memory", memoryRequest);
    put(limits, "cpu", cpuLimit);
    put(limits, "memory", memoryLimit);
    return new JobDefaults(
        deadlineSeconds,
        requests,
        limits,
        isSet(tmpSizeLimit) ? new Quantity(tmpSizeLimit.strip()) : null,
        null);
  }

  private static void put(Map<String, Quantity> into, String name, String value) {
    if (isSet(value)) {
      into.put(name, new Quantity(value.strip()));
    }
  }

  private static boolean isSet(String value) {
    return value != null && !value.isBlank() && !"none".equalsIgnoreCase(value.strip());
  }
}
