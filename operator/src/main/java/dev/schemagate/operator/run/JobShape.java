package dev.schemagate.operator.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a Job of the operator's is, in a few digests: the proof that a Job is the one the operator
 * would create for a run, and that a pod runs what its Job says. A Job's spec is compared with
 * {@link JobFactory}'s, part by part, once both are normalized: the fields the API server fills in
 * at their default values (a Job's parallelism, its selector and its pod template's labels of the
 * Job controller, a pod's DNS policy and grace period, a container's termination message path, a
 * quantity's spelling) are set aside, and so are empty values; anything else that differs, a field
 * added or changed, makes it another Job. Of a pod, what its migration container runs is compared
 * with its Job's: the image, command, arguments, environment, mounts and working directory, the
 * volumes it mounts (and any init container that mounts them too), and how the pod resolves and
 * reaches names (host aliases, DNS, host network); not what admission may add beside it (resources
 * a LimitRange fills in, a user a platform sets, containers a mesh adds).
 *
 * <p>Each part is kept as 16 bytes of its SHA-256, so that the caches keep a Job's shape, not its
 * spec ({@link Shaped}). Pure.
 */
public final class JobShape {
  /** The parts of a Job's spec, compared one by one; the name of each says where it differs. */
  enum Part {
    JOB("spec"),
    TEMPLATE("spec.template (the pod's metadata and pod-level fields)"),
    CONTAINERS("spec.template.spec containers, init containers or volumes"),
    RUNS("what its migration container runs");

    final String where;

    Part(String where) {
      this.where = where;
    }
  }

  /** A cached Job or pod that carries the shape the cache made of it before trimming its spec. */
  public interface Shaped {
    /** The shape, or null for a copy that has none. */
    JobShape shape();
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BYTES = 16;

  /** The Job controller's labels on a Job's pod template, valued with its UID or its name. */
  private static final Set<String> UID_LABELS =
      Set.of("batch.kubernetes.io/controller-uid", "controller-uid");

  private static final Set<String> NAME_LABELS = Set.of("batch.kubernetes.io/job-name", "job-name");

  /** A Job spec's fields the API server sets when they are unset, with their default values. */
  private static final Map<String, Object> JOB_DEFAULTS =
      Map.of(
          "parallelism",
          1,
          "completions",
          1,
          "completionMode",
          "NonIndexed",
          "suspend",
          false,
          "manualSelector",
          false,
          "backoffLimit",
          6,
          // the default when a pod failure policy is set, as the operator's Jobs have
          "podReplacementPolicy",
          "Failed");

  private static final Map<String, Object> POD_DEFAULTS =
      Map.of(
          "dnsPolicy", "ClusterFirst",
          "restartPolicy", "Always",
          "terminationGracePeriodSeconds", 30,
          "schedulerName", "default-scheduler");

  private static final Map<String, Object> CONTAINER_DEFAULTS =
      Map.of("terminationMessagePath", "/dev/termination-log", "terminationMessagePolicy", "File");

  /** What of the migration container decides what it runs. */
  private static final List<String> RUN_FIELDS =
      List.of("image", "command", "args", "env", "envFrom", "workingDir", "volumeMounts");

  /** What of a pod decides which hosts its migration reaches. */
  private static final List<String> NAME_FIELDS =
      List.of("hostAliases", "dnsPolicy", "dnsConfig", "hostNetwork");

  private final byte[] digests;

  private JobShape(byte[] digests) {
    this.digests = digests;
  }

  /** The shape of a Job: the one its cache made of it, or else made from its spec. */
  public static JobShape of(Job job) {
    return job instanceof Shaped shaped && shaped.shape() != null ? shaped.shape() : ofSpec(job);
  }

  /** The shape of a pod (only what it runs): the one its cache made of it, or from its spec. */
  public static JobShape of(Pod pod) {
    return pod instanceof Shaped shaped && shaped.shape() != null ? shaped.shape() : ofSpec(pod);
  }

  /** The shape of a Job, from its full spec. */
  public static JobShape ofSpec(Job job) {
    byte[] digests = new byte[Part.values().length * BYTES];
    if (job.getSpec() == null) {
      return new JobShape(digests);
    }
    ObjectNode spec = JSON.valueToTree(job.getSpec());
    String uid = job.getMetadata() == null ? null : job.getMetadata().getUid();
    String name = job.getMetadata() == null ? null : job.getMetadata().getName();
    removeDefaults(spec, JOB_DEFAULTS);
    JsonNode selector = spec.get("selector");
    if (uid != null
        && selector != null
        && selector.equals(
            JSON.createObjectNode()
                .set(
                    "matchLabels",
                    JSON.createObjectNode().put("batch.kubernetes.io/controller-uid", uid)))) {
      spec.remove("selector");
    }
    ObjectNode template = object(spec.remove("template"));
    ObjectNode podSpec = object(template.remove("spec"));
    ObjectNode labels = object(object(template.get("metadata")).get("labels"));
    UID_LABELS.forEach(key -> removeIf(labels, key, uid));
    NAME_LABELS.forEach(key -> removeIf(labels, key, name));
    normalizePod(podSpec);
    ObjectNode containers = JSON.createObjectNode();
    for (String field : List.of("containers", "initContainers", "volumes")) {
      JsonNode value = podSpec.remove(field);
      if (value != null) {
        containers.set(field, value);
      }
    }
    ObjectNode runs = runs(podSpec, containers);
    template.set("spec", podSpec);
    put(digests, Part.JOB, spec);
    put(digests, Part.TEMPLATE, template);
    put(digests, Part.CONTAINERS, containers);
    put(digests, Part.RUNS, runs);
    return new JobShape(digests);
  }

  /** The shape of a pod, from its full spec: only what it runs. */
  public static JobShape ofSpec(Pod pod) {
    byte[] digests = new byte[Part.values().length * BYTES];
    PodSpec spec = pod.getSpec();
    if (spec != null) {
      ObjectNode podSpec = JSON.valueToTree(spec);
      normalizePod(podSpec);
      ObjectNode containers = JSON.createObjectNode();
      for (String field : List.of("containers", "initContainers", "volumes")) {
        JsonNode value = podSpec.remove(field);
        if (value != null) {
          containers.set(field, value);
        }
      }
      put(digests, Part.RUNS, runs(podSpec, containers));
    }
    return new JobShape(digests);
  }

  /**
   * Where this Job differs from the one the operator would create, or empty when it is that Job.
   */
  public Optional<String> differsFrom(JobShape desired) {
    for (Part part : List.of(Part.JOB, Part.TEMPLATE, Part.CONTAINERS)) {
      if (!same(desired, part)) {
        return Optional.of(part.where);
      }
    }
    return Optional.empty();
  }

  /** Whether this pod runs what that Job's pod template says. */
  public boolean runsAs(JobShape job) {
    return same(job, Part.RUNS) && !Arrays.equals(digest(Part.RUNS), new byte[BYTES]);
  }

  private boolean same(JobShape other, Part part) {
    return Arrays.equals(digest(part), other.digest(part));
  }

  private byte[] digest(Part part) {
    int from = part.ordinal() * BYTES;
    return Arrays.copyOfRange(digests, from, from + BYTES);
  }

  /**
   * What the migration container runs: its run fields, the volumes it mounts (and the init
   * containers that mount any of them), and the pod's name resolution.
   */
  private static ObjectNode runs(ObjectNode podSpec, ObjectNode containers) {
    ObjectNode runs = JSON.createObjectNode();
    JsonNode migrate = null;
    for (JsonNode c : iterable(containers.get("containers"))) {
      if (JobFactory.CONTAINER.equals(c.path("name").asText())) {
        migrate = c;
      }
    }
    if (migrate == null) {
      runs.put("migrate", "none");
      return runs;
    }
    ObjectNode container = JSON.createObjectNode();
    for (String field : RUN_FIELDS) {
      if (migrate.has(field)) {
        container.set(field, migrate.get(field));
      }
    }
    runs.set("migrate", container);
    for (String field : NAME_FIELDS) {
      if (podSpec.has(field)) {
        runs.set(field, podSpec.get(field));
      }
    }
    Set<String> mounted = new HashSet<>();
    iterable(migrate.get("volumeMounts")).forEach(m -> mounted.add(m.path("name").asText()));
    ArrayNode volumes = runs.putArray("volumes");
    for (JsonNode volume : iterable(containers.get("volumes"))) {
      if (mounted.contains(volume.path("name").asText())) {
        volumes.add(volume);
      }
    }
    ArrayNode init = runs.putArray("initContainers");
    for (JsonNode c : iterable(containers.get("initContainers"))) {
      for (JsonNode m : iterable(c.get("volumeMounts"))) {
        if (mounted.contains(m.path("name").asText())) {
          init.add(c);
          break;
        }
      }
    }
    return runs;
  }

  private static void normalizePod(ObjectNode podSpec) {
    removeDefaults(podSpec, POD_DEFAULTS);
    JsonNode account = podSpec.get("serviceAccountName");
    if (account != null && account.equals(podSpec.get("serviceAccount"))) {
      podSpec.remove("serviceAccount"); // the deprecated alias the API server fills in
    }
    for (String field : List.of("containers", "initContainers")) {
      for (JsonNode c : iterable(podSpec.get(field))) {
        normalizeContainer((ObjectNode) c);
      }
    }
    for (JsonNode volume : iterable(podSpec.get("volumes"))) {
      ObjectNode emptyDir = object(volume.get("emptyDir"));
      if (emptyDir.has("sizeLimit")) {
        emptyDir.put("sizeLimit", quantity(emptyDir.get("sizeLimit")));
      }
    }
    prune(podSpec);
  }

  private static void normalizeContainer(ObjectNode c) {
    removeDefaults(c, CONTAINER_DEFAULTS);
    // the API server's default: Always for the tag latest (or none), else IfNotPresent
    String image = c.path("image").asText("");
    String last = image.substring(image.lastIndexOf('/') + 1);
    boolean latest = !image.contains("@") && (!last.contains(":") || last.endsWith(":latest"));
    removeIf(c, "imagePullPolicy", latest ? "Always" : "IfNotPresent");
    for (JsonNode env : iterable(c.get("env"))) {
      removeIf(object(env.path("valueFrom").get("fieldRef")), "apiVersion", "v1");
    }
    for (JsonNode port : iterable(c.get("ports"))) {
      removeIf(object(port), "protocol", "TCP");
    }
    ObjectNode resources = object(c.get("resources"));
    for (String kind : List.of("limits", "requests")) {
      ObjectNode list = object(resources.get(kind));
      List<String> names = new ArrayList<>();
      list.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        list.put(name, quantity(list.get(name)));
      }
    }
  }

  /** A quantity as a plain number, so that "1" and "1000m", "0.5" and "500m" are one value. */
  private static String quantity(JsonNode value) {
    try {
      BigDecimal amount = new Quantity(value.asText()).getNumericalAmount();
      return amount.stripTrailingZeros().toPlainString();
    } catch (RuntimeException e) {
      return value.asText();
    }
  }

  private static void removeDefaults(ObjectNode node, Map<String, Object> defaults) {
    defaults.forEach((field, value) -> removeIf(node, field, value));
  }

  private static void removeIf(ObjectNode node, String field, Object value) {
    JsonNode present = node.get(field);
    if (present == null || value == null) {
      return;
    }
    JsonNode expected = JSON.valueToTree(value);
    boolean same =
        present.isNumber() && expected.isNumber()
            ? present.decimalValue().compareTo(expected.decimalValue()) == 0
            : present.equals(expected);
    if (same) {
      node.remove(field);
    }
  }

  /** Nulls, empty objects and empty arrays removed, at every depth: empty is unset. */
  private static boolean prune(JsonNode node) {
    if (node instanceof ObjectNode object) {
      Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
      while (fields.hasNext()) {
        if (prune(fields.next().getValue())) {
          fields.remove();
        }
      }
      return object.isEmpty();
    }
    if (node instanceof ArrayNode array) {
      for (JsonNode element : array) {
        prune(element);
      }
      return array.isEmpty();
    }
    return node == null || node.isNull();
  }

  private static void put(byte[] digests, Part part, ObjectNode node) {
    prune(node);
    StringBuilder canonical = new StringBuilder();
    write(node, canonical);
    try {
      byte[] sha =
          MessageDigest.getInstance("SHA-256")
              .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      System.arraycopy(sha, 0, digests, part.ordinal() * BYTES, BYTES);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** JSON with every object's keys in order: one text for one value. */
  private static void write(JsonNode node, StringBuilder out) {
    if (node instanceof ObjectNode object) {
      Map<String, JsonNode> sorted = new TreeMap<>();
      object.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
      out.append('{');
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : sorted.entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        out.append(JSON.getNodeFactory().textNode(e.getKey())).append(':');
        write(e.getValue(), out);
      }
      out.append('}');
    } else if (node instanceof ArrayNode array) {
      out.append('[');
      for (int i = 0; i < array.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(array.get(i), out);
      }
      out.append(']');
    } else {
      out.append(node);
    }
  }

  private static ObjectNode object(JsonNode node) {
    return node instanceof ObjectNode object ? object : JSON.createObjectNode();
  }

  private static Iterable<JsonNode> iterable(JsonNode node) {
    return node instanceof ArrayNode array ? array : List.of();
  }
}
