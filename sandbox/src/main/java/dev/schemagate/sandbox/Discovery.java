package dev.schemagate.sandbox;

import java.util.Map;

/** The discovery documents (/api, /apis, /apis/GROUP/VERSION) that kubectl needs. */
final class Discovery {
  private static final String CORE =
      """
      {"kind":"APIResourceList","groupVersion":"v1","resources":[
      %s,%s,%s,%s,%s,%s]}"""
          .formatted(
              resource("pods", "Pod", true, "po"),
              resource("secrets", "Secret", true, null),
              resource("configmaps", "ConfigMap", true, "cm"),
              resource("events", "Event", true, "ev"),
              resource("namespaces", "Namespace", false, "ns"),
              resource("serviceaccounts", "ServiceAccount", true, "sa"));

  private static final Map<String, String> DOCUMENTS =
      Map.of(
          "/api",
              "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1\"}]}",
          "/api/v1", CORE,
          "/apis",
              "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":["
                  + group("apps", "v1")
                  + ","
                  + group("batch", "v1")
                  + ","
                  + group("coordination.k8s.io", "v1")
                  + ","
                  + group("apiextensions.k8s.io", "v1")
                  + ","
                  + group("schemagate.dev", "v1alpha1")
                  + "]}",
          "/apis/apps/v1", list("apps/v1", resource("deployments", "Deployment", true, "deploy")),
          "/apis/batch/v1", list("batch/v1", resource("jobs", "Job", true, null)),
          "/apis/coordination.k8s.io/v1",
              list("coordination.k8s.io/v1", resource("leases", "Lease", true, null)),
          "/apis/apiextensions.k8s.io/v1",
              list(
                  "apiextensions.k8s.io/v1",
                  resource("customresourcedefinitions", "CustomResourceDefinition", false, "crd")),
          "/apis/schemagate.dev/v1alpha1",
              list(
                  "schemagate.dev/v1alpha1",
                  resource("databasemigrations", "DatabaseMigration", true, "dbm")
                      + ","
                      + "{\"name\":\"databasemigrations/status\",\"singularName\":\"\",\"namespaced\":true,\"kind\":\"DatabaseMigration\",\"verbs\":[\"get\",\"patch\",\"update\"]}"));

  private Discovery() {}

  static String document(String path) {
    String p =
        path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path;
    return DOCUMENTS.get(p);
  }

  private static String group(String name, String version) {
    String gv =
        "{\"groupVersion\":\"" + name + "/" + version + "\",\"version\":\"" + version + "\"}";
    return "{\"name\":\"" + name + "\",\"versions\":[" + gv + "],\"preferredVersion\":" + gv + "}";
  }

  private static String list(String groupVersion, String resources) {
    return "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\""
        + groupVersion
        + "\",\"resources\":["
        + resources
        + "]}";
  }

  private static String resource(String plural, String kind, boolean namespaced, String shortName) {
    String singular = kind.toLowerCase();
    return "{\"name\":\""
        + plural
        + "\",\"singularName\":\""
        + singular
        + "\",\"namespaced\":"
        + namespaced
        + ",\"kind\":\""
        + kind
        + "\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\",\"patch\",\"update\",\"watch\"]"
        + (shortName == null ? "" : ",\"shortNames\":[\"" + shortName + "\"]")
        + "}";
  }
}
