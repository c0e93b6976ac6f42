package dev.schemagate.sandbox.local;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectFieldSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container's environment as the kubelet builds it: {@code envFrom} first, then {@code env} in
 * order, with {@code valueFrom} (Secret and ConfigMap keys, the downward API) and {@code $(VAR)}
 * references. A missing Secret, ConfigMap or key fails with the kubelet's own message, which the
 * kubelet reports as {@code CreateContainerConfigError}.
 */
public final class ContainerEnv {
  private static final Pattern REFERENCE =
      Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)");

  /** Where Secrets and ConfigMaps come from; null for one that does not exist. */
  public interface Source {
    Secret secret(String namespace, String name);

    ConfigMap configMap(String namespace, String name);
  }

  /** A container configuration the kubelet cannot resolve. */
  public static final class ConfigError extends Exception {
    public ConfigError(String message) {
      super(message);
    }
  }

  private ContainerEnv() {}

  public static Map<String, String> resolve(
      Pod pod, Container container, Source source, String podIp) throws ConfigError {
    String namespace = pod.getMetadata().getNamespace();
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : nonNull(container.getEnvFrom())) {
      String prefix = from.getPrefix() == null ? "" : from.getPrefix();
      if (from.getSecretRef() != null) {
        Secret secret = source.secret(namespace, from.getSecretRef().getName());
        if (secret == null) {
          if (!Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
            throw new ConfigError("secret \"" + from.getSecretRef().getName() + "\" not found");
          }
          continue;
        }
        secretData(secret).forEach((k, v) -> env.put(prefix + k, v));
      }
      if (from.getConfigMapRef() != null) {
        ConfigMap map = source.configMap(namespace, from.getConfigMapRef().getName());
        if (map == null) {
          if (!Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
            throw new ConfigError(
                "configmap \"" + from.getConfigMapRef().getName() + "\" not found");
          }
          continue;
        }
        if (map.getData() != null) {
          map.getData().forEach((k, v) -> env.put(prefix + k, v));
        }
      }
    }
    for (EnvVar var : nonNull(container.getEnv())) {
      if (var.getValueFrom() == null) {
        env.put(var.getName(), expand(var.getValue() == null ? "" : var.getValue(), env));
      } else if (var.getValueFrom().getSecretKeyRef() != null) {
        var ref = var.getValueFrom().getSecretKeyRef();
        boolean optional = Boolean.TRUE.equals(ref.getOptional());
        Secret secret = source.secret(namespace, ref.getName());
        if (secret == null) {
          if (optional) {
            continue;
          }
          throw new ConfigError("secret \"" + ref.getName() + "\" not found");
        }
        String value = secretData(secret).get(ref.getKey());
        if (value == null) {
          if (optional) {
            continue;
          }
          throw new ConfigError(
              "couldn't find key "
                  + ref.getKey()
                  + " in Secret "
                  + namespace
                  + "/"
                  + ref.getName());
        }
        env.put(var.getName(), value);
      } else if (var.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = var.getValueFrom().getConfigMapKeyRef();
        boolean optional = Boolean.TRUE.equals(ref.getOptional());
        ConfigMap map = source.configMap(namespace, ref.getName());
        if (map == null) {
          if (optional) {
            continue;
          }
          throw new ConfigError("configmap \"" + ref.getName() + "\" not found");
        }
        String value = map.getData() == null ? null : map.getData().get(ref.getKey());
        if (value == null) {
          if (optional) {
            continue;
          }
          throw new ConfigError(
              "couldn't find key "
                  + ref.getKey()
                  + " in ConfigMap "
                  + namespace
                  + "/"
                  + ref.getName());
        }
        env.put(var.getName(), value);
      } else if (var.getValueFrom().getFieldRef() != null) {
        env.put(var.getName(), field(pod, var.getValueFrom().getFieldRef(), podIp));
      } else {
        env.put(var.getName(), "");
      }
    }
    return env;
  }

  /** The downward API's fields. */
  static String field(Pod pod, ObjectFieldSelector selector, String podIp) throws ConfigError {
    String path = selector.getFieldPath();
    var meta = pod.getMetadata();
    Matcher keyed = Pattern.compile("metadata\\.(labels|annotations)\\['(.+)'\\]").matcher(path);
    if (keyed.matches()) {
      Map<String, String> map =
          "labels".equals(keyed.group(1)) ? meta.getLabels() : meta.getAnnotations();
      return map == null ? "" : map.getOrDefault(keyed.group(2), "");
    }
    return switch (path) {
      case "metadata.name" -> meta.getName();
      case "metadata.namespace" -> meta.getNamespace();
      case "metadata.uid" -> meta.getUid();
      case "spec.nodeName" -> pod.getSpec().getNodeName();
      case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
      case "status.podIP", "status.podIPs" -> podIp;
      case "status.hostIP", "status.hostIPs" -> "127.0.0.1";
      default -> throw new ConfigError("unsupported fieldPath: " + path);
    };
  }

  /**
   * {@code $(VAR)} replaced by the variable's value when it is defined; {@code $$} is a literal
   * {@code $}.
   */
  public static String expand(String value, Map<String, String> env) {
    Matcher m = REFERENCE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(1) == null) {
        replacement = "$";
      } else {
        replacement = env.containsKey(m.group(1)) ? env.get(m.group(1)) : m.group();
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  static Map<String, String> secretData(Secret secret) {
    Map<String, String> data = new LinkedHashMap<>();
    if (secret.getData() != null) {
      secret
          .getData()
          .forEach(
              (k, v) ->
                  data.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (secret.getStringData() != null) {
      data.putAll(secret.getStringData());
    }
    return data;
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }
}
