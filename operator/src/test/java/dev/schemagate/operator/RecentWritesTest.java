package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static dev.schemagate.operator.Fixtures.result;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Phase;
import dev.schemagate.operator.kube.GateDeployment;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.ManagedInformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.TemporaryResourceCache;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the operator writes it hands to its caches so that the next reconcile reads its own write
 * before the watch brings it. Once the watch has brought it, the informer's copy is the only one: a
 * copy kept beside it stays for the life of the object (a finished run's Job, a resumed Deployment
 * never change again), and at 5,000 DatabaseMigrations a third of the Jobs were held twice.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class RecentWritesTest extends ReconcilerTestBase {
  private static final int MIGRATIONS = 12;

  @Inject Operator operator;

  @Test
  void whatTheWatchHasBroughtIsHeldOnce() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < MIGRATIONS; i++) {
      cluster.createDeployment("app-" + i, false);
      apply(migration(ns, "m-" + i, IMAGE_1, "3", "app-" + i));
      names.add("m-" + i);
    }
    List<Job> jobs = new ArrayList<>();
    for (String name : names) {
      Job job = awaitJob(name);
      jobs.add(job);
      cluster.succeed(job, result("", "3", "1", "2", "3"));
    }
    names.forEach(name -> awaitPhase(name, Phase.Ready));
    // owned by its DatabaseMigration: the last write of the operator to a finished run's Job
    eventually()
        .until(
            () ->
                jobs.stream()
                    .allMatch(
                        j ->
                            !cluster
                                .job(j.getMetadata().getName())
                                .getMetadata()
                                .getOwnerReferences()
                                .isEmpty()));

    InformerEventSource<Job, DatabaseMigration> jobSource = source(Job.class, "jobs");
    InformerEventSource<GateDeployment, DatabaseMigration> deploymentSource =
        source(GateDeployment.class, "deployments");
    eventually()
        .untilAsserted(
            () -> {
              for (Job job : jobs) {
                assertHeldOnce(jobSource, cluster.job(job.getMetadata().getName()));
              }
              for (int i = 0; i < MIGRATIONS; i++) {
                assertHeldOnce(deploymentSource, cluster.deployment("app-" + i));
              }
            });
  }

  /**
   * The SDK reads an object from its temporary cache first, then from the informer's store. Once
   * the informer's store has the live version, the temporary cache holds nothing for it.
   */
  private static <R extends HasMetadata> void assertHeldOnce(
      InformerEventSource<R, DatabaseMigration> source, HasMetadata live) {
    String name = live.getMetadata().getName();
    String namespace = live.getMetadata().getNamespace();
    assertThat(
            source
                .list(namespace, r -> name.equals(r.getMetadata().getName()))
                .map(r -> r.getMetadata().getResourceVersion()))
        .as("%s %s in the informer's store", live.getKind(), name)
        .containsExactly(live.getMetadata().getResourceVersion());
    assertThat(temporaryCache(source).getResourceFromCache(new ResourceID(name, namespace)))
        .as("%s %s: a second copy beside the informer's", live.getKind(), name)
        .isEmpty();
  }

  /** The SDK's cache of recent writes (a protected field: it has no getter). */
  @SuppressWarnings("unchecked")
  private static <R extends HasMetadata> TemporaryResourceCache<R> temporaryCache(
      InformerEventSource<R, DatabaseMigration> source) {
    try {
      Field field = ManagedInformerEventSource.class.getDeclaredField("temporaryResourceCache");
      field.setAccessible(true);
      return (TemporaryResourceCache<R>) field.get(source);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("the operator SDK's temporary cache moved: " + e, e);
    }
  }

  @SuppressWarnings("unchecked")
  private <R extends HasMetadata> InformerEventSource<R, DatabaseMigration> source(
      Class<R> kind, String name) {
    Controller<DatabaseMigration> controller =
        (Controller<DatabaseMigration>)
            operator.getRegisteredController(DatabaseMigrationReconciler.NAME).orElseThrow();
    return (InformerEventSource<R, DatabaseMigration>)
        controller.getEventSourceManager().getEventSourceFor(kind, name);
  }
}
