package dev.schemagate.operator.run;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.Direction;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.MigrationKind;
import dev.schemagate.api.Run;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The run a Job carries, written and read in one place: the labels and annotations made from a
 * run's inputs, the inputs read back from a Job (to adopt one that no status records), the Run of
 * the status and the HistoryEntry that records it.
 */
public final class RunCodec {
  /** On Jobs and their pods: the DatabaseMigration's name (an annotation: names may exceed 63). */
  public static final String MIGRATION = DatabaseMigration.GROUP + "/migration";

  /** On Jobs and their pods, as a label and an annotation: the run's id. */
  public static final String RUN_ID = DatabaseMigration.GROUP + "/run-id";

  static final String DIRECTION = DatabaseMigration.GROUP + "/direction";
  static final String TARGET_REVISION = DatabaseMigration.GROUP + "/target-revision";
  static final String FROM_REVISION = DatabaseMigration.GROUP + "/from-revision";
  static final String REQUESTED_IMAGE = DatabaseMigration.GROUP + "/requested-image";
  static final String GENERATION = DatabaseMigration.GROUP + "/generation";
  static final String APPROVED_PLAN = DatabaseMigration.GROUP + "/approved-plan";

  /** On a run's Job: the part of a release it applies (expand, contract); none for all of it. */
  static final String PART = DatabaseMigration.GROUP + "/part";

  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String MANAGER = "schemagate";

  /** Selects the Jobs and pods of schemagate's runs. */
  public static final String MANAGED_SELECTOR = MANAGED_BY + "=" + MANAGER;

  private RunCodec() {}

  /** The labels of a run's Job and of its pod. */
  static Map<String, String> labels(RunInputs run) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED_BY, MANAGER);
    labels.put(RUN_ID, run.id());
    return labels;
  }

  /** The annotations of a run's Job: its DatabaseMigration and everything that defines the run. */
  static Map<String, String> jobAnnotations(String migration, RunInputs run) {
    Map<String, String> annotations = podAnnotations(migration, run);
    annotations.put(DIRECTION, run.direction().word());
    annotations.put(TARGET_REVISION, run.targetRevision());
    annotations.put(REQUESTED_IMAGE, run.requestedImage());
    annotations.put(GENERATION, Long.toString(run.generation()));
    if (run.fromRevision() != null) {
      annotations.put(FROM_REVISION, run.fromRevision());
    }
    if (run.approvedPlan() != null) {
      annotations.put(APPROVED_PLAN, run.approvedPlan());
    }
    if (run.part().word() != null) {
      annotations.put(PART, run.part().word());
    }
    return annotations;
  }

  /** The annotations of a run's pod: its DatabaseMigration and the run. */
  static Map<String, String> podAnnotations(String migration, RunInputs run) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(MIGRATION, migration);
    annotations.put(RUN_ID, run.id());
    return annotations;
  }

  /**
   * The owner reference a finished run's Job gets, so that it goes with its DatabaseMigration (a
   * running Job has none: a cascading deletion must not stop a migration mid-way).
   */
  public static OwnerReference ownerReference(DatabaseMigration dbm) {
    return new OwnerReferenceBuilder()
        .withApiVersion(dbm.getApiVersion())
        .withKind(dbm.getKind())
        .withName(dbm.getMetadata().getName())
        .withUid(dbm.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /** Whether the Job carries the owner reference of this DatabaseMigration. */
  public static boolean ownedBy(Job job, DatabaseMigration dbm) {
    return job.getMetadata().getOwnerReferences() != null
        && job.getMetadata().getOwnerReferences().stream()
            .anyMatch(o -> dbm.getMetadata().getUid().equals(o.getUid()));
  }

  /** The inputs of the run a Job performs, read back from the Job. */
  public static RunInputs inputs(Job job) {
    String generation = annotation(job, GENERATION);
    return new RunInputs(
        runId(job),
        job.getMetadata().getName(),
        switch (String.valueOf(annotation(job, DIRECTION))) {
          case "downgrade" -> Direction.DOWNGRADE;
          case "plan" -> Direction.PLAN;
          case "check" -> Direction.CHECK;
          default -> Direction.UPGRADE;
        },
        image(job),
        annotation(job, REQUESTED_IMAGE),
        annotation(job, TARGET_REVISION),
        annotation(job, FROM_REVISION),
        generation == null || !generation.matches("\\d{1,18}") ? 0L : Long.parseLong(generation),
        annotation(job, APPROVED_PLAN),
        RunPart.of(annotation(job, PART)));
  }

  /** The image of the Job's first container (the migration's), or null. */
  private static String image(Job job) {
    if (job.getSpec() == null
        || job.getSpec().getTemplate() == null
        || job.getSpec().getTemplate().getSpec() == null
        || job.getSpec().getTemplate().getSpec().getContainers() == null
        || job.getSpec().getTemplate().getSpec().getContainers().isEmpty()) {
      return null;
    }
    return job.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }

  /** Whether the Job is a plan Job (spec.approval: Manual), not a run. */
  public static boolean isPlan(Job job) {
    return Direction.PLAN.word().equals(annotation(job, DIRECTION));
  }

  /** Whether the Job is a drift check (spec.drift), not a run. */
  public static boolean isCheck(Job job) {
    return Direction.CHECK.word().equals(annotation(job, DIRECTION));
  }

  /** Whether the Job is a migration run: neither a plan nor a drift check. */
  public static boolean isRun(Job job) {
    return !isPlan(job) && !isCheck(job);
  }

  /** The name of the DatabaseMigration a Job or pod of a run belongs to, or null. */
  public static String migration(HasMetadata jobOrPod) {
    return annotation(jobOrPod, MIGRATION);
  }

  /** The id of the run a Job performs, or null. */
  public static String runId(Job job) {
    return annotation(job, RUN_ID);
  }

  /** The UID of the pod's controller (its Job, for a pod the Job controller made), or null. */
  public static String controllerUid(Pod pod) {
    return pod.getMetadata().getOwnerReferences() == null
        ? null
        : pod.getMetadata().getOwnerReferences().stream()
            .filter(o -> Boolean.TRUE.equals(o.getController()))
            .map(o -> o.getUid())
            .findFirst()
            .orElse(null);
  }

  /** The id of the run a pod belongs to, or null. */
  public static String runId(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels == null ? null : labels.get(RUN_ID);
  }

  /** The run in progress for these inputs, started at {@code startedAt} (RFC 3339). */
  public static Run run(RunInputs inputs, String startedAt) {
    Run run = new Run();
    run.setId(inputs.id());
    run.setJob(inputs.jobName());
    run.setDirection(inputs.direction());
    run.setImage(inputs.image());
    run.setRequestedImage(inputs.requestedImage());
    run.setFromRevision(inputs.fromRevision());
    run.setTargetRevision(inputs.targetRevision());
    run.setGeneration(inputs.generation());
    run.setStartedAt(startedAt);
    run.setPart(inputs.part() == RunPart.CONTRACT ? MigrationKind.CONTRACT : null);
    return run;
  }

  /**
   * The history entry of a finished run, before its outcome: what the two share, and its target.
   */
  static HistoryEntry historyEntry(Run run) {
    HistoryEntry entry = new HistoryEntry();
    entry.setId(run.getId());
    entry.setJob(run.getJob());
    entry.setJobUid(run.getJobUid());
    entry.setDirection(run.getDirection());
    entry.setImage(run.getImage());
    entry.setRequestedImage(run.getRequestedImage());
    entry.setFromRevision(run.getFromRevision());
    entry.setTargetRevision(run.getTargetRevision());
    entry.setGeneration(run.getGeneration());
    entry.setStartedAt(run.getStartedAt());
    entry.setPart(run.getPart());
    return entry;
  }

  private static String annotation(HasMetadata resource, String key) {
    Map<String, String> annotations = resource.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }
}
