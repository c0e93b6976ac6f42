package dev.schemagate.operator;

import dev.schemagate.operator.kube.AdmissionWebhook;
import dev.schemagate.operator.kube.WebhookCache;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Serves the admission webhook when SCHEMAGATE_WEBHOOK_ENABLED is true (the chart sets it, with the
 * HTTPS port and its certificate): every replica, leader or not, answers from a cache of its own.
 */
@ApplicationScoped
public class AdmissionRoutes {
  private final Settings settings;
  private final KubernetesClient client;
  private final MeterRegistry registry;
  private WebhookCache cache;

  public AdmissionRoutes(Settings settings, KubernetesClient client, MeterRegistry registry) {
    this.settings = settings;
    this.client = client;
    this.registry = registry;
  }

  void routes(@Observes Router router) {
    if (!settings.webhookEnabled()) {
      return;
    }
    cache = new WebhookCache(client, settings.watchNamespaces());
    new AdmissionWebhook(
            cache::get,
            settings.gateMode(),
            settings.gateMissingMigration(),
            client.getKubernetesSerialization(),
            registry)
        .serveOn(router);
  }

  void stop(@Observes ShutdownEvent event) {
    if (cache != null) {
      cache.close();
    }
  }
}
