package dev.schemagate.operator.gate;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.ContractPhase;
import dev.schemagate.api.ContractStatus;
import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.GateMode;
import dev.schemagate.api.PlannedMigration;
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
  void aPodOfAMissingMigrationWaitsOrGoesAsTheAdminChose() {
    assertThat(PodRequirement.admission(pod(null), null, GateMode.Admission, MissingMigration.Hold))
        .hasValueSatisfying(
            why ->
                assertThat(why)
                    .contains("DatabaseMigration orders does not exist", "waits until it exists"));
    assertThat(
            PodRequirement.admission(pod(null), null, GateMode.Admission, MissingMigration.Admit))
        .isEmpty();
    assertThat(PodRequirement.admission(pod("4"), null, GateMode.Pause, MissingMigration.Hold))
        .as("whatever the default mode: no DatabaseMigration says otherwise")
        .isPresent();
  }

  @Test
  void admissionLeavesPauseModeAlone() {
    DatabaseMigration behind = at(IMAGE_1, "4", "3", "1", "2", "3");
    assertThat(
            PodRequirement.admission(pod(null), behind, GateMode.Admission, MissingMigration.Hold))
        .isPresent();
    assertThat(PodRequirement.admission(pod(null), behind, GateMode.Pause, MissingMigration.Hold))
        .isEmpty();
    behind.getSpec().getGate().setMode(GateMode.Admission);
    assertThat(PodRequirement.admission(pod(null), behind, GateMode.Pause, MissingMigration.Hold))
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

  @Test
  void aRevisionAContractMigrationAppliedSinceHasRemovedFromIsNotMet() {
    DatabaseMigration dbm = at(IMAGE_1, "3", "6", "1", "2", "3", "4", "5", "6");
    dbm.getStatus().setContractRevisions(new ArrayList<>(List.of("5")));
    assertThat(PodRequirement.unmet(pod("3"), dbm))
        .isEqualTo(
            "revision 3 of DatabaseMigration orders is contracted: contract migration 5, applied"
                + " after it, removed what a pod that requires 3 uses (the database is at 6)."
                + " Roll forward to a template that requires 5 or later, or migrate the database"
                + " down below 5 (spec.targetRevision with spec.downgrade.policy: Allow)");
    assertThat(PodRequirement.unmet(pod("4"), dbm)).as("4 is before 5 too").isNotNull();
    assertThat(PodRequirement.unmet(pod("5"), dbm)).isNull();
    assertThat(PodRequirement.unmet(pod("6"), dbm)).isNull();
    assertThat(PodRequirement.admission(pod("3"), dbm, GateMode.Admission, MissingMigration.Hold))
        .as("admission holds the rollback's pods")
        .hasValueSatisfying(why -> assertThat(why).contains("contract migration 5"));
  }

  @Test
  void aFlywayVersionBelowTheRecordedRevisionsIsOrderedByNumber() {
    DatabaseMigration dbm = at(IMAGE_1, "3", "6", "5", "6");
    dbm.getStatus().setContractRevisions(new ArrayList<>(List.of("5")));
    assertThat(PodRequirement.unmet(pod("2"), dbm)).contains("contract migration 5");
  }

  @Test
  void alembicRevisionsAreOrderedByTheRecordedLineage() {
    DatabaseMigration dbm = at(IMAGE_1, "c3", "d4", "a1", "b2", "c3", "d4");
    dbm.getSpec().setTool(Tool.ALEMBIC);
    dbm.getStatus().setContractRevisions(new ArrayList<>(List.of("c3")));
    assertThat(PodRequirement.unmet(pod("b2"), dbm)).contains("contract migration c3");
    assertThat(PodRequirement.unmet(pod("c3"), dbm)).isNull();
    assertThat(PodRequirement.unmet(pod("d4"), dbm)).isNull();
  }

  @Test
  void theReleasesAppRunsOnTheExpandedSchemaWhileItsContractPartWaits() {
    DatabaseMigration dbm = at(IMAGE_2, "5", "4", "1", "2", "3", "4");
    ContractStatus contract = new ContractStatus();
    contract.setPhase(ContractPhase.AwaitingRollout);
    contract.setImage(IMAGE_2);
    contract.setTargetRevision("5");
    contract.setExpandRevision("4");
    PlannedMigration drop = new PlannedMigration();
    drop.setRevision("5");
    contract.getPending().add(drop);
    dbm.getStatus().setContract(contract);
    assertThat(PodRequirement.unmet(pod(null), dbm)).isNull();
    assertThat(PodRequirement.unmet(pod("5"), dbm)).isNull();
    assertThat(PodRequirement.unmet(pod("3"), dbm)).as("the old version too").isNull();
    contract.setImage(IMAGE_1);
    assertThat(PodRequirement.unmet(pod(null), dbm))
        .as("the contract part of another release lets nothing run")
        .isNotNull();
  }
}
