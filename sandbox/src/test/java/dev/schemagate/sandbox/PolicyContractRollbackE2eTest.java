package dev.schemagate.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Rollbacks around a contract through the chart's MutatingAdmissionPolicy (the path Kubernetes 1.36
 * gets by default), on the suite's shared control plane.
 */
@ExtendWith(E2e.Reporter.class)
class PolicyContractRollbackE2eTest extends ContractRollbackScenarios {
  @BeforeAll
  static void thePolicyIsThePath() throws Exception {
    Assumptions.assumeTrue(E2e.KIND == Sandbox.Kind.REAL, "admission needs the real control plane");
    assertThat(
            E2e.sandbox()
                .client()
                .genericKubernetesResources(
                    "admissionregistration.k8s.io/v1", "MutatingAdmissionPolicy")
                .withName("schemagate-rollout-gate")
                .get())
        .as("the chart installed its admission policy")
        .isNotNull();
  }

  @Override
  Sandbox sandbox() throws Exception {
    return E2e.sandbox();
  }
}
