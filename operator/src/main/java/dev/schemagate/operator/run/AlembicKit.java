package dev.schemagate.operator.run;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.List;

/**
 * The Alembic kit in an Alembic Job's pod (scripts/alembic-kit builds it; the image
 * schemagate/alembic-kit ships it): an init container of the kit's image copies it into an
 * emptyDir, and the migration image's container runs its command from there, so the pod spec
 * carries a command, not a program, and the migration image needs nothing of schemagate's.
 */
public final class AlembicKit {
  /** The init container's name. */
  public static final String CONTAINER = "alembic-kit";

  static final String VOLUME = "schemagate-kit";
  static final String MOUNT = "/schemagate";

  /** Where the kit's image holds it. */
  static final String SOURCE = "/opt/schemagate/alembic-kit";

  /** The migration container's command: the kit's, in the image's shell. */
  static final List<String> COMMAND = List.of("/bin/sh", MOUNT + "/bin/schemagate-alembic");

  /** The kit is a few dozen KB; the volume holds nothing else. */
  static final Quantity SIZE_LIMIT = new Quantity("16Mi");

  private AlembicKit() {}

  /** The init container that copies the kit into the volume (the kit image's static busybox). */
  static Container initContainer(String image, ResourceRequirements resources) {
    return new ContainerBuilder()
        .withName(CONTAINER)
        .withImage(image)
        .withCommand("/bin/busybox", "cp", "-R", SOURCE + "/.", MOUNT + "/")
        .withResources(resources)
        .withImagePullPolicy("IfNotPresent")
        .withSecurityContext(JobFactory.restricted())
        .withVolumeMounts(new VolumeMountBuilder().withName(VOLUME).withMountPath(MOUNT).build())
        .build();
  }

  /** The kit, read-only, in the migration container. */
  static VolumeMount mount() {
    return new VolumeMountBuilder()
        .withName(VOLUME)
        .withMountPath(MOUNT)
        .withReadOnly(true)
        .build();
  }

  static Volume volume() {
    return new VolumeBuilder()
        .withName(VOLUME)
        .withNewEmptyDir()
        .withSizeLimit(SIZE_LIMIT)
        .endEmptyDir()
        .build();
  }
}
