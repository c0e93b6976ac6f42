package dev.schemagate.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's volumes on the sandbox's node: emptyDir, Secret and ConfigMap volumes (and their
 * projections) are written under the pod's directory. A local process cannot see them at their
 * mount path, so the kubelet rewrites every path under a mount path in the container's environment
 * and arguments to where the volume really is ({@link #rewrite}). A missing Secret or ConfigMap
 * fails the mount, as a kubelet reports it: the container waits in ContainerCreating.
 */
final class Volumes {
  /** A volume could not be set up (a Secret or ConfigMap is missing). */
  static final class MountError extends Exception {
    MountError(String message) {
      super(message);
    }
  }

  private Volumes() {}

  /** Writes the pod's volumes; returns each volume's directory by name. */
  static Map<String, Path> materialize(Pod pod, Path podDir, ContainerEnv.Source source)
      throws IOException, MountError {
    String namespace = pod.getMetadata().getNamespace();
    Map<String, Path> dirs = new LinkedHashMap<>();
    for (Volume volume : nonNull(pod.getSpec().getVolumes())) {
      Path dir = Files.createDirectories(podDir.resolve("volumes").resolve(volume.getName()));
      dirs.put(volume.getName(), dir);
      if (volume.getSecret() != null) {
        Secret secret = source.secret(namespace, volume.getSecret().getSecretName());
        if (secret == null) {
          if (Boolean.TRUE.equals(volume.getSecret().getOptional())) {
            continue;
          }
          throw new MountError(
              "MountVolume.SetUp failed for volume \""
                  + volume.getName()
                  + "\" : secret \""
                  + volume.getSecret().getSecretName()
                  + "\" not found");
        }
        write(dir, ContainerEnv.secretData(secret), volume.getSecret().getItems());
      } else if (volume.getConfigMap() != null) {
        ConfigMap map = source.configMap(namespace, volume.getConfigMap().getName());
        if (map == null) {
          if (Boolean.TRUE.equals(volume.getConfigMap().getOptional())) {
            continue;
          }
          throw new MountError(
              "MountVolume.SetUp failed for volume \""
                  + volume.getName()
                  + "\" : configmap \""
                  + volume.getConfigMap().getName()
                  + "\" not found");
        }
        write(
            dir,
            map.getData() == null ? Map.of() : map.getData(),
            volume.getConfigMap().getItems());
      } else if (volume.getProjected() != null) {
        for (VolumeProjection projection : nonNull(volume.getProjected().getSources())) {
          if (projection.getSecret() != null) {
            Secret secret = source.secret(namespace, projection.getSecret().getName());
            if (secret != null) {
              write(dir, ContainerEnv.secretData(secret), projection.getSecret().getItems());
            }
          } else if (projection.getConfigMap() != null) {
            ConfigMap map = source.configMap(namespace, projection.getConfigMap().getName());
            if (map != null && map.getData() != null) {
              write(dir, map.getData(), projection.getConfigMap().getItems());
            }
          }
        }
      }
    }
    return dirs;
  }

  /** Each of the container's mount paths, and the directory it stands for. */
  static Map<String, Path> mounts(Container container, Map<String, Path> volumes) {
    Map<String, Path> mounts = new LinkedHashMap<>();
    for (VolumeMount mount : nonNull(container.getVolumeMounts())) {
      Path dir = volumes.get(mount.getName());
      if (dir != null) {
        String sub = mount.getSubPath();
        mounts.put(mount.getMountPath(), sub == null || sub.isEmpty() ? dir : dir.resolve(sub));
      }
    }
    return mounts;
  }

  /** A value with every path under a mount path pointed at the volume's directory. */
  static String rewrite(String value, Map<String, Path> mounts) {
    for (var mount : mounts.entrySet()) {
      String at = mount.getKey().endsWith("/") ? mount.getKey() : mount.getKey() + "/";
      if (value.equals(mount.getKey()) || value.equals(at)) {
        return mount.getValue().toString();
      }
      value = value.replace(at, mount.getValue() + "/");
    }
    return value;
  }

  private static void write(Path dir, Map<String, String> data, List<KeyToPath> items)
      throws IOException {
    if (items == null || items.isEmpty()) {
      for (var entry : data.entrySet()) {
        Files.writeString(dir.resolve(entry.getKey()), entry.getValue());
      }
      return;
    }
    for (KeyToPath item : items) {
      if (data.containsKey(item.getKey())) {
        Path file = dir.resolve(item.getPath());
        Files.createDirectories(file.getParent());
        Files.writeString(file, data.get(item.getKey()));
      }
    }
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }
}
