package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The admission gate through the operator's webhook (gate.admission.via=webhook), with two
 * replicas, on a control plane of its own. Every replica answers the webhook from its own cache, so
 * "the operator stopped" here is its leader stopped: the other replica still answers, and takes
 * over the reconciling within the Lease duration. (With every replica down, the webhook's
 * failurePolicy decides: Fail, the chart's default, refuses the pods that name a DatabaseMigration
 * until a replica is back.)
 */
@ExtendWith(E2e.Reporter.class)
@Tag("own-sandbox")
class WebhookGateE2eTest extends AdmissionGateScenarios {
  static Sandbox sandbox;
  static ChartOperator operator;

  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "admission needs the real control plane");
    Path work = E2e.HOME.resolve("sandbox/target/e2e-webhook");
    Demo.clean(work);
    sandbox =
        Sandbox.start(
                E2e.HOME, work, System.getenv("SCHEMAGATE_SANDBOX_DATABASE_URL"), Sandbox.Kind.REAL)
            .operatorReplicas(2)
            .operatorValue("gate.admission.via", "webhook");
    operator = (ChartOperator) sandbox.startOperator();
    assertThat(
            sandbox
                .client()
                .admissionRegistration()
                .v1()
                .mutatingWebhookConfigurations()
                .withName("schemagate-rollout-gate")
                .get())
        .as("the chart installed the webhook")
        .isNotNull();
    assertThat(
            sandbox
                .client()
                .genericKubernetesResources(
                    "admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                .withName("schemagate-rollout-gate")
                .get())
        .isNull();
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

  @Override
  void stopOperator() throws Exception {
    String leader = operator.leader();
    sandbox
        .client()
        .pods()
        .inNamespace(ChartOperator.NAMESPACE)
        .withName(leader)
        .withGracePeriod(0)
        .delete();
  }

  @Override
  void startOperator() throws Exception {
    operator.awaitLeader(java.time.Duration.ofSeconds(90));
  }
}
