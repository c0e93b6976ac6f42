package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The admission gate through the chart's MutatingAdmissionPolicy (Kubernetes 1.36 serves it; the
 * chart's default picks it there), on the suite's shared control plane. The policy runs in the API
 * server: with the operator stopped, pods are still held, or admitted, as they should be.
 */
@ExtendWith(E2e.Reporter.class)
class PolicyGateE2eTest extends AdmissionGateScenarios {
  @BeforeAll
  static void thePolicyHoldsPods() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "admission needs the real control plane");
    Sandbox sandbox = E2e.sandbox();
    assertThat(
            sandbox
                .client()
                .genericKubernetesResources(
                    "admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                .withName("schemagate-rollout-gate")
                .get())
        .as("the chart installed its admission policy")
        .isNotNull();
  }

  @Override
  Sandbox sandbox() {
    return E2e.sandbox;
  }

  @Override
  void stopOperator() throws Exception {
    E2e.sandbox.operator().kill();
  }

  @Override
  void startOperator() throws Exception {
    E2e.sandbox.startOperator();
  }
}
