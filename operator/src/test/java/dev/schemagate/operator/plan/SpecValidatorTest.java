package dev.schemagate.operator.plan;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.withUid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checks of the spec the CRD schema does not make. */
class SpecValidatorTest {

  @Test
  void specValidatorNamesTheFieldAndTheFix() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3", "ok", "Bad_Name"));
    dbm.getSpec().setEnv(new ArrayList<>(List.of(new EnvVar("SCHEMAGATE_DIRECTION", "x", null))));
    assertThat(SpecValidator.problems(dbm.getSpec()))
        .containsExactly(
            "spec.gate.deployments[1] \"Bad_Name\" is not a valid Deployment name: use lower-case letters, digits, '-' and '.'",
            "spec.env SCHEMAGATE_DIRECTION: names starting with SCHEMAGATE_ are set by the operator; rename it");
  }
}
