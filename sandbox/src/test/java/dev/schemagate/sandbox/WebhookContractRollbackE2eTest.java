package dev.schemagate.sandbox;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rollbacks around a contract through the operator's webhook (gate.admission.via=webhook), on a
 * control plane of its own.
 */
@ExtendWith(E2e.Reporter.class)
@Tag("own-sandbox")
class WebhookContractRollbackE2eTest extends ContractRollbackScenarios {
  static Sandbox sandbox;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "admission needs the real control plane");
    Path work = E2e.HOME.resolve("sandbox/target/e2e-webhook-rollback");
    Demo.clean(work);
    sandbox =
        Sandbox.start(
                E2e.HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), Sandbox.Kind.REAL)
            .operatorValue("gate.admission.via", "webhook")
            .chartValues(E2e.POLICY);
    sandbox.startOperator();
    E2e.assertGateIsTheWebhook(sandbox);
  }

  @AfterAll
  static void stop() throws Exception {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  @Override
  Sandbox sandbox() {
    return sandbox;
  }
}
