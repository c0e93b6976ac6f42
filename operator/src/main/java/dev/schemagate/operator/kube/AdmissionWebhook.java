package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.GateMode;
import dev.schemagate.operator.gate.MissingMigration;
import dev.schemagate.operator.gate.PodRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The mutating admission webhook, for clusters without MutatingAdmissionPolicy: at a pod's
 * creation, adds the scheduling gate when the revision the pod needs is not in place ({@link
 * PodRequirement#admission}), from the replica's own cache of DatabaseMigrations. The webhook
 * configuration's objectSelector sends it only pods that name a DatabaseMigration.
 */
public final class AdmissionWebhook {
  public static final String PATH = "/mutate-pods";
  private static final Logger LOG = Logger.getLogger(AdmissionWebhook.class);

  /** Finds a DatabaseMigration by namespace and name; null when there is none. */
  public interface Lookup {
    DatabaseMigration get(String namespace, String name);
  }

  private final Lookup cache;
  private final GateMode defaultMode;
  private final MissingMigration missing;
  private final KubernetesSerialization json;
  private final MeterRegistry registry;

  public AdmissionWebhook(
      Lookup cache,
      GateMode defaultMode,
      MissingMigration missing,
      KubernetesSerialization json,
      MeterRegistry registry) {
    this.cache = cache;
    this.defaultMode = defaultMode;
    this.missing = missing;
    this.json = json;
    this.registry = registry;
  }

  /**
   * The largest request body read: 3 MiB, the kube-apiserver's own limit on a request body (its
   * MaxRequestBodyBytes), so that the review of any pod the API server accepts (at most 3 MiB as
   * written, and 1.5 MiB as stored: etcd's default request limit) is read, and nothing larger. A
   * longer body is refused (413) before it is read.
   */
  public static final int BODY_LIMIT = 3 << 20;

  /** Serves POST /mutate-pods on the router; the router's server is the webhook's HTTPS one. */
  public void serveOn(Router router) {
    router
        .post(PATH)
        .handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT))
        .blockingHandler(this::handle, false);
  }

  /**
   * Buckets of the webhook's answer times: the API server waits {@code timeoutSeconds} (5 s by
   * default) and then, with failurePolicy Fail, refuses the pod.
   */
  static final Duration[] ANSWER_BUCKETS = {
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofMillis(2500),
    Duration.ofSeconds(5),
    Duration.ofSeconds(10)
  };

  /**
   * The timer of the webhook's requests by result: gated, admitted, or error (no answer the API
   * server can use: with failurePolicy Fail, it refuses the pod).
   */
  public static Timer requests(MeterRegistry registry, String result) {
    return Timer.builder("schemagate.admission.requests")
        .description(
            "Pod admission requests the webhook answered (gated, admitted) or could not (error)")
        .tag("result", result)
        .serviceLevelObjectives(ANSWER_BUCKETS)
        .register(registry);
  }

  private void handle(RoutingContext context) {
    Timer.Sample took = Timer.start(registry);
    AdmissionReview review;
    try {
      review = json.unmarshal(context.body().asString(), AdmissionReview.class);
    } catch (RuntimeException e) {
      took.stop(requests(registry, "error"));
      context.response().setStatusCode(400).end("not an AdmissionReview: " + e.getMessage());
      return;
    }
    AdmissionReview answer;
    try {
      answer = review(review.getRequest());
    } catch (RuntimeException e) {
      took.stop(requests(registry, "error"));
      LOG.warnf(e, "could not answer the admission request of a pod in %s", namespaceOf(review));
      context.response().setStatusCode(500).end("schemagate could not review the pod: " + e);
      return;
    }
    String result = answer.getResponse().getPatch() == null ? "admitted" : "gated";
    took.stop(requests(registry, result));
    context.response().putHeader("Content-Type", "application/json").end(json.asJson(answer));
  }

  private static String namespaceOf(AdmissionReview review) {
    return review.getRequest() == null
        ? "an unknown namespace"
        : review.getRequest().getNamespace();
  }

  /**
   * The answer to one request: always allowed; with a patch that adds the gate when it must wait.
   */
  public AdmissionReview review(AdmissionRequest request) {
    AdmissionResponse response = new AdmissionResponse();
    response.setUid(request.getUid());
    response.setAllowed(true);
    Pod pod = json.convertValue(request.getObject(), Pod.class);
    String namespace = request.getNamespace();
    DatabaseMigration dbm = cache.get(namespace, PodRequirement.migration(pod));
    Optional<String> wait = PodRequirement.admission(pod, dbm, defaultMode, missing);
    if (wait.isPresent() && !PodRequirement.gated(pod)) {
      boolean hasGates =
          pod.getSpec().getSchedulingGates() != null
              && !pod.getSpec().getSchedulingGates().isEmpty();
      String patch =
          hasGates
              ? "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates/-\",\"value\":{\"name\":\""
                  + PodRequirement.GATE
                  + "\"}}]"
              : "[{\"op\":\"add\",\"path\":\"/spec/schedulingGates\",\"value\":[{\"name\":\""
                  + PodRequirement.GATE
                  + "\"}]}]";
      response.setPatchType("JSONPatch");
      response.setPatch(Base64.getEncoder().encodeToString(patch.getBytes(StandardCharsets.UTF_8)));
      LOG.debugf(
          "%s/%s: held at the scheduling gate: %s",
          namespace,
          pod.getMetadata().getGenerateName() == null
              ? pod.getMetadata().getName()
              : pod.getMetadata().getGenerateName(),
          wait.get());
    }
    AdmissionReview answer = new AdmissionReview();
    answer.setApiVersion("admission.k8s.io/v1");
    answer.setKind("AdmissionReview");
    answer.setResponse(response);
    return answer;
  }
}
