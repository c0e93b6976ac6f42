package dev.schemagate.operator.gate;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.Tool;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodRequirementTest {
  static Pod pod(String requires) {
    PodBuilder pod =
        new PodBuilder()
            .withNewMetadata()
            .withName("orders-api-1")
            .addToLabels(PodRequirement.LABEL, "orders")
            .endMetadata()
            .withNewSpec()
            .endSpec();
    if (requires != null) {
      pod.editMetadata().addToAnnotations(PodRequirement.REQUIRES, requires).endMetadata();
    }
    return pod.build();
  }

  static DatabaseMigration at(String image, String target, String current, String... applied) {
    DatabaseMigration dbm = migration("shop", "orders", image, target);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_1);
    status.setAppliedTargetRevision("3");
    status.setCurrentRevision(current);
    status.setAppliedRevisions(new ArrayList<>(List.of(applied)));
    dbm.setStatus(status);
    return dbm;
  }

  @Test
  void withoutARequirementAPodNeedsTheTargetOfItsMigration() {
    assertThat(PodRequirement.unmet(pod(null), at(IMAGE_1, "3", "3", "1", "2", "3"))).isNull();
    assertThat(PodRequirement.unmet(pod(null), at(IMAGE_1, "4", "3", "1", "2", "3")))
        .isEqualTo(
            "the database is not at the target of DatabaseMigration orders (4) yet; it is at 3");
    assertThat(PodRequirement.unmet(pod(null), at(IMAGE_2, "3", "3", "1", "2", "3")))
        .as("a new image is a new target, even for the same revision")
        .isNotNull();
  }

  @Test
  void aRequiredRevisionIsMetWhenItIsInPlaceOrBelowTheCurrentFlywayVersion() {
    DatabaseMigration dbm = at(IMAGE_1, "9", "3", "1", "2", "3");
    assertThat(PodRequirement.unmet(pod("2"), dbm)).isNull();
    assertThat(PodRequirement.unmet(pod("4"), dbm))
        .isEqualTo(
            "revision 4 of DatabaseMigration orders is not in place yet; the database is at 3");
    DatabaseMigration truncated = at(IMAGE_1, "9", "500", "498", "499", "500");
    assertThat(PodRequirement.unmet(pod("7"), truncated))
        .as("Flyway versions below the current one are in place, listed or not")
        .isNull();
    truncated.getSpec().setTool(Tool.ALEMBIC);
    assertThat(PodRequirement.unmet(pod("7"), truncated))
        .as("Alembic revisions are not ordered")
        .isNotNull();
  }

  @Test
  void admissionHoldsPodsOfAMissingMigrationAndLeavesPauseModeAlone() {
    assertThat(PodRequirement.admission(pod(null), null, GateMode.Admission))
        .contains("DatabaseMigration orders does not exist (yet)");
    DatabaseMigration behind = at(IMAGE_1, "4", "3", "1", "2", "3");
    assertThat(PodRequirement.admission(pod(null), behind, GateMode.Admission)).isPresent();
    assertThat(PodRequirement.admission(pod(null), behind, GateMode.Pause)).isEmpty();
    behind.getSpec().getGate().setMode(GateMode.Admission);
    assertThat(PodRequirement.admission(pod(null), behind, GateMode.Pause))
        .as("the resource's own mode wins")
        .isPresent();
  }

  @Test
  void theGateIsFoundAmongOthers() {
    Pod pod = pod(null);
    assertThat(PodRequirement.gated(pod)).isFalse();
    pod.getSpec()
        .setSchedulingGates(
            List.of(
                new io.fabric8.kubernetes.api.model.PodSchedulingGate("example.com/other"),
                new io.fabric8.kubernetes.api.model.PodSchedulingGate(PodRequirement.GATE)));
    assertThat(PodRequirement.gateIndex(pod)).isEqualTo(1);
  }
}
