package dev.schemagate.operator;

import dev.schemagate.operator.kube.AdmissionWebhook;
import dev.schemagate.operator.kube.WebhookCache;
import dev.schemagate.operator.kube.WebhookServer;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;

/**
 * Serves the admission webhook when SCHEMAGATE_WEBHOOK_ENABLED is true (the chart sets it, with the
 * certificate's files): every replica, leader or not, answers from a cache of its own, on an HTTPS
 * server of the webhook's own ({@link WebhookServer}); the plain HTTP port never serves it.
 */
@ApplicationScoped
public class AdmissionRoutes {
  private final Settings settings;
  private final KubernetesClient client;
  private final MeterRegistry registry;
  private final Vertx vertx;
  private WebhookCache cache;
  private WebhookServer server;

  public AdmissionRoutes(
      Settings settings, KubernetesClient client, MeterRegistry registry, Vertx vertx) {
    this.settings = settings;
    this.client = client;
    this.registry = registry;
    this.vertx = vertx;
  }

  void start(@Observes StartupEvent event) {
    if (!settings.webhookEnabled()) {
      return;
    }
    cache = new WebhookCache(client, settings.watchNamespaces());
    server =
        WebhookServer.start(
            vertx,
            settings.webhookPort(),
            Path.of(settings.webhookCertFile()),
            Path.of(settings.webhookKeyFile()),
            WebhookServer.RELOAD_EVERY,
            new AdmissionWebhook(
                cache::get,
                settings.gateMode(),
                settings.gateMissingMigration(),
                client.getKubernetesSerialization(),
                registry));
  }

  void stop(@Observes ShutdownEvent event) {
    if (server != null) {
      server.close();
    }
    if (cache != null) {
      cache.close();
    }
  }
}
