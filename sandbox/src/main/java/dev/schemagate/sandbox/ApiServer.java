package dev.schemagate.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.zjsonpatch.JsonPatch;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * The embedded Kubernetes API: the fabric8 mock server in CRUD mode, with the schemagate CRD in it,
 * the discovery documents kubectl asks for, and a count of the requests it served (by method and
 * resource, for the benchmarks), and lists in pages for clients that ask for them; and, once {@link
 * #admitPodsThrough} names one, the mutating admission webhook a created pod that names a
 * DatabaseMigration goes through, as the chart configures it. Listens on loopback; {@link
 * #writeKubeconfig} lets a person watch.
 */
public final class ApiServer implements AutoCloseable {
  /** Mutating requests seen, keyed "METHOD resource" (for example "PATCH deployments"). */
  public final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final CountingDispatcher dispatcher;

  /** The mock web server logs every request at INFO through java.util.logging. */
  private static final Logger QUIET = Logger.getLogger("io.fabric8.mockwebserver");

  public ApiServer(Path crd) throws IOException {
    QUIET.setLevel(Level.WARNING);
    dispatcher = new CountingDispatcher(requests);
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

  /**
   * From now on, a pod created with the label schemagate.dev/migration is sent to this mutating
   * admission webhook (the operator's POST /mutate-pods) and created as its answer patches it, as
   * the chart's MutatingWebhookConfiguration has the API server do (objectSelector: the label;
   * failurePolicy Fail: without an answer the pod is refused, and its controller tries again).
   */
  public void admitPodsThrough(URI webhook, SSLContext trust) {
    dispatcher.http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).sslContext(trust).build();
    dispatcher.webhook = webhook;
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
    Map<String, Long> out = new TreeMap<>();
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
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Map<String, AtomicLong> requests;
    private final Map<String, ObjectNode> snapshots = new ConcurrentHashMap<>();
    private final AtomicLong snapshotIds = new AtomicLong();

    /** The label that sends a pod to the webhook (the webhook configuration's objectSelector). */
    static final String LABEL = "schemagate.dev/migration";

    private static final Pattern POD_CREATE =
        Pattern.compile("^/api/v1/namespaces/([^/?]+)/pods(\\?.*)?$");
    volatile HttpClient http;
    volatile URI webhook;

    CountingDispatcher(Map<String, AtomicLong> requests) {
      super(List.of());
      this.requests = requests;
    }

    @Override
    public MockResponse handleCreate(RecordedRequest request) {
      Matcher pod = POD_CREATE.matcher(request.getPath());
      URI to = webhook;
      if (to == null || !pod.matches()) {
        return super.handleCreate(request);
      }
      // reading the body consumes it: what goes on is a copy
      byte[] body = request.getBody().readByteArray();
      try {
        ObjectNode object = (ObjectNode) JSON.readTree(body);
        if (!object.path("metadata").path("labels").has(LABEL)) {
          return super.handleCreate(withBody(request, body));
        }
        JsonNode patched = admit(to, pod.group(1), object);
        if (patched == null) {
          return refused(
              "Internal error occurred: failed calling webhook \\\"rollout-gate.schemagate.dev\\\": no"
                  + " answer from "
                  + to);
        }
        return super.handleCreate(withBody(request, JSON.writeValueAsBytes(patched)));
      } catch (IOException e) {
        return refused("the pod is not JSON: " + e.getMessage().replace("\"", "'"));
      }
    }

    private static RecordedRequest withBody(RecordedRequest request, byte[] body) {
      return new RecordedRequest(
          request.getHttpVersion(),
          request.method(),
          request.getPath(),
          request.getHeaders(),
          new Buffer(body));
    }

    /** The pod as the webhook's answer patches it; null when there is no usable answer. */
    private JsonNode admit(URI to, String namespace, ObjectNode pod) {
      ObjectNode review = JSON.createObjectNode();
      review.put("apiVersion", "admission.k8s.io/v1");
      review.put("kind", "AdmissionReview");
      ObjectNode req = review.putObject("request");
      req.put("uid", UUID.randomUUID().toString());
      req.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
      req.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
      req.put("namespace", namespace);
      req.put("operation", "CREATE");
      req.set("object", pod);
      try {
        HttpResponse<String> answer =
            http.send(
                HttpRequest.newBuilder(to)
                    .timeout(Duration.ofSeconds(5))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(review.toString()))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
          return null;
        }
        JsonNode response = JSON.readTree(answer.body()).path("response");
        if (!response.path("allowed").asBoolean(false)) {
          return null;
        }
        String patch = response.path("patch").asText("");
        return patch.isEmpty()
            ? pod
            : JsonPatch.apply(JSON.readTree(Base64.getDecoder().decode(patch)), pod);
      } catch (IOException | RuntimeException e) {
        return null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }

    private static MockResponse refused(String message) {
      return new MockResponse()
          .setResponseCode(500)
          .addHeader("Content-Type", "application/json")
          .setBody(
              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":500,"
                  + "\"message\":\""
                  + message
                  + "\"}");
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
        if ("LIST".equals(verb) && query(path, "limit") != null) {
          return page(request, path);
        }
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

    /**
     * A list in pages, as the API server gives it to a client that sets {@code limit} (informers
     * do): the mock lists everything at once, so the whole list is kept from the first page until
     * the last one is served, and {@code continue} is its id and the next page's offset.
     */
    private MockResponse page(RecordedRequest request, String path) {
      int limit = Integer.parseInt(query(path, "limit"));
      String token = query(path, "continue");
      String id;
      int offset;
      ObjectNode list;
      if (token == null) {
        MockResponse all = super.dispatch(request);
        if (all.code() != 200) {
          return all;
        }
        try {
          list = (ObjectNode) JSON.readTree(all.getBody().getBytes());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        id = Long.toString(snapshotIds.incrementAndGet());
        offset = 0;
        snapshots.put(id, list);
      } else {
        String decoded = URLDecoder.decode(token, StandardCharsets.UTF_8);
        id = decoded.substring(0, decoded.indexOf(':'));
        offset = Integer.parseInt(decoded.substring(decoded.indexOf(':') + 1));
        list = snapshots.get(id);
        if (list == null) {
          return new MockResponse()
              .setResponseCode(410)
              .addHeader("Content-Type", "application/json")
              .setBody(
                  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410}");
        }
      }
      ArrayNode items = list.withArray("items");
      int end = Math.min(items.size(), offset + limit);
      ObjectNode page = list.deepCopy();
      page.remove("items");
      ArrayNode pageItems = page.putArray("items");
      for (int i = offset; i < end; i++) {
        pageItems.add(items.get(i));
      }
      ObjectNode meta = page.withObject("/metadata");
      if (end < items.size()) {
        meta.put("continue", id + ":" + end);
        meta.put("remainingItemCount", items.size() - end);
      } else {
        meta.remove("continue");
        snapshots.remove(id);
      }
      return new MockResponse()
          .setResponseCode(200)
          .addHeader("Content-Type", "application/json")
          .setBody(page.toString());
    }

    /** A query parameter of a request's path, or null. */
    static String query(String path, String name) {
      int q = path.indexOf('?');
      if (q < 0) {
        return null;
      }
      for (String pair : path.substring(q + 1).split("&")) {
        if (pair.startsWith(name + "=")) {
          return pair.substring(name.length() + 1);
        }
      }
      return null;
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
