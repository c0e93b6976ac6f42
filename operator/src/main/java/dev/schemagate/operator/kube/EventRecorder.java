package dev.schemagate.operator.kube;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.run.ResultParser;
import dev.schemagate.operator.status.EventReason;
import dev.schemagate.redact.Redactor;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Emits Kubernetes Events (core/v1) from the fixed set of {@link EventReason}s. The same reason and
 * message for the same object are sent once; an Event that cannot be written is logged, never
 * allowed to fail a reconcile.
 */
@ApplicationScoped
public class EventRecorder {
  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  private static final int REMEMBERED = 4096;

  private final KubernetesClient client;
  private final Clock clock;
  private final Set<String> sent =
      Collections.synchronizedSet(
          Collections.newSetFromMap(
              new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > REMEMBERED;
                }
              }));

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  public void record(DatabaseMigration dbm, EventReason reason, String message) {
    record((HasMetadata) dbm, reason, message);
  }

  /** An Event about any object: a Deployment, a pod. */
  public void record(HasMetadata dbm, EventReason reason, String message) {
    String safeMessage = ResultParser.shorten(Redactor.redact(message));
    String key = dbm.getMetadata().getUid() + "|" + reason + "|" + safeMessage;
    if (!sent.add(key)) {
      return;
    }
    String now = Time.format(clock.instant());
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(Names.prefix(dbm.getMetadata().getName(), 200) + "." + Names.hash(key, now))
            .withNamespace(dbm.getMetadata().getNamespace())
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(dbm.getApiVersion())
                    .withKind(dbm.getKind())
                    .withName(dbm.getMetadata().getName())
                    .withNamespace(dbm.getMetadata().getNamespace())
                    .withUid(dbm.getMetadata().getUid())
                    .build())
            .withReason(reason.name())
            .withMessage(safeMessage)
            .withType(reason.type())
            .withNewSource()
            .withComponent("schemagate")
            .endSource()
            .withReportingComponent("schemagate.dev/operator")
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .build();
    try {
      client.v1().events().inNamespace(dbm.getMetadata().getNamespace()).resource(event).create();
    } catch (RuntimeException e) {
      sent.remove(key);
      LOG.warnf(
          "could not record event %s for %s/%s: %s",
          reason, dbm.getMetadata().getNamespace(), dbm.getMetadata().getName(), e.getMessage());
    }
  }
}
