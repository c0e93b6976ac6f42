package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.GateMode;
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
  private final KubernetesSerialization json;
  private final MeterRegistry registry;

  public AdmissionWebhook(
      Lookup cache, GateMode defaultMode, KubernetesSerialization json, MeterRegistry registry) {
    this.cache = cache;
    this.defaultMode = defaultMode;
    this.json = json;
    this.registry = registry;
  }

  /** Serves POST /mutate-pods on the router. */
  public void serveOn(Router router) {
    router.post(PATH).handler(BodyHandler.create().setBodyLimit(4 << 20)).handler(this::handle);
  }

  private void handle(RoutingContext context) {
    Timer.Sample took = Timer.start(registry);
    AdmissionReview review;
    try {
      review = json.unmarshal(context.body().asString(), AdmissionReview.class);
    } catch (RuntimeException e) {
      context.response().setStatusCode(400).end("not an AdmissionReview: " + e.getMessage());
      return;
    }
    AdmissionReview answer = review(review.getRequest());
    String result = answer.getResponse().getPatch() == null ? "admitted" : "gated";
    took.stop(
        Timer.builder("schemagate.admission.requests")
            .description("Pod admission requests the webhook answered, gated or admitted")
            .tag("result", result)
            .register(registry));
    context.response().putHeader("Content-Type", "application/json").end(json.asJson(answer));
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
    Optional<String> wait = PodRequirement.admission(pod, dbm, defaultMode);
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
