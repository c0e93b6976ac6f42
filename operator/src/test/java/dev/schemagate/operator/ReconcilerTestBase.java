package dev.schemagate.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.status.Conditions;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.BeforeEach;

/**
 * Shared by the reconciler tests: a namespace per test and a short way to read what a user sees.
 */
abstract class ReconcilerTestBase {
  @Inject KubernetesClient client;
  FakeCluster cluster;
  String ns;

  @BeforeEach
  void namespace() {
    ns = "t-" + UUID.randomUUID().toString().substring(0, 8);
    cluster = new FakeCluster(client, ns);
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50));
  }

  DatabaseMigration apply(DatabaseMigration dbm) {
    return client.resources(DatabaseMigration.class).inNamespace(ns).resource(dbm).create();
  }

  /** Edits like a person with kubectl: on a conflict with the operator's status write, again. */
  DatabaseMigration edit(String name, UnaryOperator<DatabaseMigration> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        return client
            .resources(DatabaseMigration.class)
            .inNamespace(ns)
            .withName(name)
            .edit(change);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  Job awaitSingleJob() {
    eventually().until(() -> cluster.jobs().size() == 1);
    return cluster.jobs().get(0);
  }

  Job awaitJob(String name) {
    eventually()
        .until(
            () ->
                cluster.dbm(name).getStatus() != null
                    && cluster.dbm(name).getStatus().getActiveRun() != null
                    && cluster.job(cluster.dbm(name).getStatus().getActiveRun().getJob()) != null);
    return cluster.job(cluster.dbm(name).getStatus().getActiveRun().getJob());
  }

  void awaitPhase(String name, Phase phase) {
    eventually()
        .untilAsserted(
            () ->
                assertThat(cluster.dbm(name).getStatus())
                    .isNotNull()
                    .extracting(s -> s.getPhase())
                    .isEqualTo(phase));
  }

  static Condition condition(DatabaseMigration dbm, String type) {
    return Conditions.find(dbm.getStatus().getConditions(), type).orElseThrow();
  }

  boolean paused(String deployment) {
    return Boolean.TRUE.equals(cluster.deployment(deployment).getSpec().getPaused());
  }

  /** The direction a Job of the operator runs (upgrade, downgrade, plan, check). */
  static String direction(Job job) {
    return job.getMetadata().getAnnotations().get("schemagate.dev/direction");
  }

  /** The value of an environment variable of the Job's migration container, or null. */
  static String env(Job job, String name) {
    return job.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> name.equals(e.getName()))
        .map(EnvVar::getValue)
        .findFirst()
        .orElse(null);
  }

  /** The Jobs of this test's namespace that run in this direction. */
  List<Job> jobs(String direction) {
    return cluster.jobs().stream().filter(j -> direction.equals(direction(j))).toList();
  }
}
