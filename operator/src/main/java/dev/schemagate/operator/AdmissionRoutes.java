package dev.schemagate.operator;

import dev.schemagate.operator.kube.AdmissionWebhook;
import dev.schemagate.operator.kube.ReplicaSetNudge;
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
import java.time.Clock;

/**
 * Serves the admission webhook when SCHEMAGATE_WEBHOOK_ENABLED is true (the chart sets it, with the
 * certificate's files): every replica, leader or not, answers from a cache of its own, on an HTTPS
 * server of the webhook's own ({@link WebhookServer}); the plain HTTP port never serves it. Once it
 * serves, the ReplicaSets whose pods were refused while no replica answered are woken ({@link
 * ReplicaSetNudge}).
 */
@ApplicationScoped
public class AdmissionRoutes {
  private final Settings settings;
  private final KubernetesClient client;
  private final MeterRegistry registry;
  private final Vertx vertx;
  private WebhookCache cache;
  private WebhookServer server;
  private ReplicaSetNudge nudge;

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
    // pods refused while no replica answered: their ReplicaSets are woken, not left to back off
    nudge = ReplicaSetNudge.start(client, settings.watchNamespaces(), Clock.systemUTC());
  }

  void stop(@Observes ShutdownEvent event) {
    if (nudge != null) {
      nudge.close();
    }
    if (server != null) {
      server.close();
    }
    if (cache != null) {
      cache.close();
    }
  }
}
