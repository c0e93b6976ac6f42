package dev.schemagate.sandbox;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The embedded Kubernetes API: the fabric8 mock server in CRUD mode, with the schemagate CRD in it,
 * the discovery documents kubectl asks for, and a count of the requests it served (by method and
 * resource, for the benchmarks). Listens on loopback; {@link #writeKubeconfig} lets a person watch.
 */
public final class ApiServer implements AutoCloseable {
  /** Mutating requests seen, keyed "METHOD resource" (for example "PATCH deployments"). */
  public final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();

  private final KubernetesMockServer server;
  private final KubernetesClient client;

  /** The mock web server logs every request at INFO through java.util.logging. */
  private static final java.util.logging.Logger QUIET =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  public ApiServer(Path crd) throws IOException {
    QUIET.setLevel(java.util.logging.Level.WARNING);
    KubernetesCrudDispatcher dispatcher = new CountingDispatcher(requests);
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
    try (InputStream in = Files.newInputStream(crd)) {
      CustomResourceDefinition definition =
          client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
      client.apiextensions().v1().customResourceDefinitions().resource(definition).create();
      server.expectCustomResource(CustomResourceDefinitionContext.fromCrd(definition));
    }
    requests.clear();
  }

  public KubernetesClient client() {
    return client;
  }

  public String url() {
    return client.getConfiguration().getMasterUrl();
  }

  /** A kubeconfig for this server: for the operator's process and for kubectl. */
  public Path writeKubeconfig(Path file) throws IOException {
    String server = url().endsWith("/") ? url().substring(0, url().length() - 1) : url();
    Files.createDirectories(file.getParent());
    Files.writeString(
        file,
        String.join(
            "\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: sandbox",
            "  cluster:",
            "    server: " + server,
            "contexts:",
            "- name: sandbox",
            "  context: {cluster: sandbox, user: sandbox, namespace: default}",
            "current-context: sandbox",
            "users:",
            "- name: sandbox",
            "  user: {token: sandbox}",
            ""));
    return file;
  }

  /**
   * Requests counted since the last {@code requests.clear()}, keyed "[operator ]VERB resource",
   * VERB one of GET (one named object), LIST, WATCH, POST, PUT, PATCH, DELETE.
   */
  public Map<String, Long> counts() {
    Map<String, Long> out = new java.util.TreeMap<>();
    requests.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }

  /** CRUD, plus discovery and counting. */
  static final class CountingDispatcher extends KubernetesCrudDispatcher {
    private final Map<String, AtomicLong> requests;

    CountingDispatcher(Map<String, AtomicLong> requests) {
      super(List.of());
      this.requests = requests;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
      String discovery = Discovery.document(bare);
      if (discovery != null && "GET".equals(request.getMethod())) {
        return new MockResponse()
            .setResponseCode(200)
            .addHeader("Content-Type", "application/json")
            .setBody(discovery);
      }
      if ("POST".equals(request.getMethod()) && bare.endsWith("/selfsubjectrulesreviews")) {
        // the operator checks its permissions before leader election: here it may do anything
        return new MockResponse()
            .setResponseCode(201)
            .addHeader("Content-Type", "application/json")
            .setBody(
                "{\"kind\":\"SelfSubjectRulesReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"metadata\":{},"
                    + "\"spec\":{},\"status\":{\"resourceRules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}],"
                    + "\"nonResourceRules\":[],\"incomplete\":false}}");
      }
      boolean watch = path.contains("watch=true");
      String agent = request.getHeader("User-Agent");
      String who = agent != null && agent.startsWith("schemagate-operator") ? "operator " : "";
      String verb =
          watch
              ? "WATCH"
              : "GET".equals(request.getMethod())
                  ? (named(bare) ? "GET" : "LIST")
                  : request.getMethod();
      requests
          .computeIfAbsent(who + verb + " " + resource(bare), k -> new AtomicLong())
          .incrementAndGet();
      try {
        return super.dispatch(request);
      } catch (RuntimeException e) {
        if (!e.getClass().getName().contains("JsonPatch")) {
          throw e;
        }
        // A JSON Patch whose "test" fails (a stale resourceVersion): the API server answers 422;
        // the mock would throw and leave the request unanswered.
        return new MockResponse()
            .setResponseCode(422)
            .addHeader("Content-Type", "application/json")
            .setBody(
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Invalid\",\"code\":422,"
                    + "\"message\":\"the server rejected our request due to an error in our request: "
                    + e.getMessage().replace("\"", "'")
                    + "\"}");
      }
    }

    /** Whether a path names one object (a GET of it bypasses an informer cache). */
    static boolean named(String path) {
      String[] parts = path.split("/");
      int i = path.startsWith("/api/") ? 3 : 4;
      if (parts.length > i + 1 && "namespaces".equals(parts[i]) && parts.length > i + 2) {
        i += 2;
      }
      return parts.length > i + 1;
    }

    /** The resource a path names, with "/status" for the status subresource. */
    static String resource(String path) {
      String[] parts = path.split("/");
      int i = path.startsWith("/api/") ? 3 : 4;
      if (parts.length > i + 1 && "namespaces".equals(parts[i]) && parts.length > i + 2) {
        i += 2;
      }
      if (parts.length <= i) {
        return path;
      }
      String resource = parts[i];
      if (parts.length > i + 2) {
        resource += "/" + parts[i + 2];
      }
      return resource;
    }
  }
}
