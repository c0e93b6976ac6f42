package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.operator.gate.PodRequirement;
import dev.schemagate.operator.run.RunCodec;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/** The informer caches as plain lists: what the steps read, with no API server. */
final class FakeView implements ClusterView {
  final List<Job> jobs = new ArrayList<>();
  final List<Pod> pods = new ArrayList<>();
  final List<Deployment> deployments = new ArrayList<>();
  final List<Pod> appPods = new ArrayList<>();
  final List<Event> events = new ArrayList<>();

  @Override
  public Job job(String namespace, String name) {
    return jobs.stream()
        .filter(j -> name.equals(j.getMetadata().getName()))
        .findFirst()
        .orElse(null);
  }

  @Override
  public List<Job> jobs(DatabaseMigration dbm) {
    return jobs.stream()
        .filter(j -> dbm.getMetadata().getName().equals(RunCodec.migration(j)))
        .toList();
  }

  @Override
  public Collection<Pod> pods(String namespace, String runId) {
    return pods.stream().filter(p -> Objects.equals(runId, RunCodec.runId(p))).toList();
  }

  @Override
  public Collection<Event> failedCreates(Job job) {
    return events.stream()
        .filter(e -> Objects.equals(job.getMetadata().getUid(), e.getInvolvedObject().getUid()))
        .toList();
  }

  @Override
  public Deployment deployment(String namespace, String name) {
    return deployments.stream()
        .filter(d -> name.equals(d.getMetadata().getName()))
        .findFirst()
        .orElse(null);
  }

  @Override
  public List<Pod> appPods(String namespace, String migration) {
    return appPods.stream().filter(p -> migration.equals(PodRequirement.migration(p))).toList();
  }
}
