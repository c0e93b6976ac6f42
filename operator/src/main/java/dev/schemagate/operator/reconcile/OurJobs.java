package dev.schemagate.operator.reconcile;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.JobRecord;
import dev.schemagate.operator.base.Names;
import dev.schemagate.operator.run.JobDefaults;
import dev.schemagate.operator.run.JobFactory;
import dev.schemagate.operator.run.JobShape;
import dev.schemagate.operator.run.Observation;
import dev.schemagate.operator.run.PodResult;
import dev.schemagate.operator.run.RunCodec;
import dev.schemagate.operator.run.RunInputs;
import dev.schemagate.operator.run.RunObserver;
import dev.schemagate.operator.run.RunState;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Jobs of one DatabaseMigration, and their pods, as a reconcile reads them from the caches: the
 * one place where a Job is taken for one of this resource's, where a Job's pods are found, and
 * where a Job of the operator's is observed (its pods' result read once, by {@link RunObserver}).
 *
 * <p>Labels and annotations prove nothing: anyone who may create Jobs in the namespace can copy
 * them. A Job carrying this resource's marks is its Job only when
 *
 * <ul>
 *   <li>it is the Job the status records for it, by UID (the operator wrote that UID when it
 *       created the Job, and only the operator writes the status), or
 *   <li>the status records no UID for it: a record of an earlier operator's names it (it is bound
 *       to the Job of that name it first sees), or nothing names it and its spec is exactly the one
 *       the operator would create for the run it carries ({@link JobShape}; a Job the operator made
 *       but whose record a lost status write or a restart forgot).
 * </ul>
 *
 * Of such a Job, only the pods it controls (controller owner reference: its UID) and whose
 * migration container runs what its pod template says are read. Anything else with this resource's
 * marks is a look-alike: told ({@link #lookAlikes}), never recorded.
 */
public final class OurJobs {
  /**
   * A Job or a pod that carries this resource's marks but is not its own.
   *
   * @param kind Job or pod
   * @param why what tells it apart from the operator's
   */
  public record LookAlike(String kind, String name, String why) {}

  private final ClusterView cluster;
  private final DatabaseMigration dbm;
  private final DatabaseMigrationStatus before;
  private final DatabaseMigrationStatus status;
  private final JobDefaults defaults;
  private final Instant now;
  private final Map<String, Optional<String>> judged = new HashMap<>();
  private final Map<String, LookAlike> lookAlikes = new LinkedHashMap<>();

  OurJobs(
      ClusterView cluster,
      DatabaseMigration dbm,
      DatabaseMigrationStatus before,
      DatabaseMigrationStatus status,
      JobDefaults defaults,
      Instant now) {
    this.cluster = cluster;
    this.dbm = dbm;
    this.before = before;
    this.status = status;
    this.defaults = defaults;
    this.now = now;
  }

  /** The Job of this resource of that name, or null when there is none. */
  public Job named(String name) {
    Job job = name == null ? null : cluster.job(dbm.getMetadata().getNamespace(), name);
    return job != null && marked(job) && ours(job) ? job : null;
  }

  /** Every Job of this resource: its runs', its plans' and its drift checks'. */
  public List<Job> all() {
    return cluster.jobs(dbm).stream().filter(this::marked).filter(this::ours).toList();
  }

  /**
   * The finished Jobs with this resource's marks and its owner reference that are not recognised as
   * its own any more (a run cut from history, made from a spec since changed): nothing is read of
   * them; they may go.
   */
  public List<Job> leftovers() {
    return cluster.jobs(dbm).stream()
        .filter(this::marked)
        .filter(RunObserver::finished)
        .filter(j -> RunCodec.ownedBy(j, dbm))
        .filter(j -> !ours(j))
        .peek(j -> lookAlikes.remove("Job/" + j.getMetadata().getName()))
        .toList();
  }

  /**
   * The Jobs of runs with this resource's marks that are not its own and still run: a migration of
   * unknown origin may be changing the database, so no run of this resource starts meanwhile.
   */
  public List<LookAlike> foreignRuns() {
    return cluster.jobs(dbm).stream()
        .filter(this::marked)
        .filter(RunCodec::isRun)
        .filter(j -> !RunObserver.finished(j))
        .filter(j -> !ours(j))
        .map(j -> lookAlikes.get("Job/" + j.getMetadata().getName()))
        .filter(Objects::nonNull)
        .toList();
  }

  /** The look-alikes met so far in this reconcile, each once. */
  public List<LookAlike> lookAlikes() {
    cluster.jobs(dbm).stream().filter(this::marked).forEach(this::ours);
    return List.copyOf(lookAlikes.values());
  }

  /**
   * The pods of this Job of the operator's whose result may be read: those it controls (their
   * controller owner reference is its UID) and whose migration container runs what its pod template
   * says. Other pods with its run's label are look-alikes.
   */
  public Collection<Pod> pods(Job job) {
    JobShape shape = JobShape.of(job);
    String uid = job.getMetadata().getUid();
    List<Pod> own = new ArrayList<>();
    for (Pod pod : podsOfRun(RunCodec.runId(job))) {
      String controller = RunCodec.controllerUid(pod);
      if (uid != null && uid.equals(controller) && JobShape.of(pod).runsAs(shape)) {
        own.add(pod);
      } else {
        lookAlikes.putIfAbsent(
            "pod/" + pod.getMetadata().getName(),
            new LookAlike(
                "pod",
                pod.getMetadata().getName(),
                uid != null && uid.equals(controller)
                    ? "its migration container does not run what Job "
                        + job.getMetadata().getName()
                        + " says (image, command, arguments, environment, mounts or name"
                        + " resolution differ)"
                    : "Job "
                        + job.getMetadata().getName()
                        + " does not control it (its controller owner reference is "
                        + (controller == null ? "missing" : "UID " + controller)
                        + ")"));
      }
    }
    return own;
  }

  /**
   * Every pod with the run's label, whoever made it: what may still run for that run (a run waits
   * for them to stop), never what it reports.
   */
  public Collection<Pod> podsOfRun(String id) {
    return id == null ? List.of() : cluster.pods(dbm.getMetadata().getNamespace(), id);
  }

  /** The Job status records, as it stands: its Job (or none), its pods, their result. */
  public Observation observe(JobRecord record) {
    Job job = named(record.getJob());
    return observe(record.getJob(), job, job == null ? record.getId() : RunCodec.runId(job));
  }

  /** A Job of this resource, as it stands. */
  public Observation observe(Job job) {
    return observe(job.getMetadata().getName(), job, RunCodec.runId(job));
  }

  private Observation observe(String name, Job job, String id) {
    // a Job that is gone: any pod of its run may still run; of a Job, only its own pods report
    Collection<Pod> pods = job == null ? podsOfRun(id) : pods(job);
    RunState state =
        RunObserver.observe(
            name,
            job,
            pods,
            job == null ? List.of() : cluster.failedCreates(job),
            dbm.getSpec().getTool(),
            now);
    return new Observation(job, state, job == null ? PodResult.of(List.of()) : PodResult.of(pods));
  }

  /** Whether the Job carries this resource's name (annotation), as every Job of its does. */
  private boolean marked(Job job) {
    return dbm.getMetadata().getName().equals(RunCodec.migration(job));
  }

  /** Whether the Job is this resource's own; a look-alike is remembered with what tells it. */
  private boolean ours(Job job) {
    String key = job.getMetadata().getName() + "/" + job.getMetadata().getUid();
    Optional<String> why = judged.computeIfAbsent(key, k -> judge(job));
    why.ifPresent(
        w ->
            lookAlikes.putIfAbsent(
                "Job/" + job.getMetadata().getName(),
                new LookAlike("Job", job.getMetadata().getName(), w)));
    return why.isEmpty();
  }

  /** Empty when the Job is this resource's; else what tells it apart. */
  private Optional<String> judge(Job job) {
    String name = job.getMetadata().getName();
    String uid = job.getMetadata().getUid();
    List<String> recordedUids =
        Stream.concat(records(status), records(before))
            .filter(r -> name.equals(r.getJob()) && r.getJobUid() != null)
            .map(JobRecord::getJobUid)
            .distinct()
            .toList();
    if (recordedUids.contains(uid)) {
      return Optional.empty();
    }
    if (!recordedUids.isEmpty()) {
      return Optional.of(
          "it is not the Job "
              + name
              + " the operator created (UID "
              + recordedUids.get(0)
              + "): it was replaced by another of that name");
    }
    if (records(before).anyMatch(r -> name.equals(r.getJob()))) {
      return Optional.empty(); // recorded by an earlier operator, without its UID
    }
    RunInputs inputs;
    try {
      inputs = RunCodec.inputs(job);
    } catch (RuntimeException e) {
      return Optional.of("its annotations do not describe a run of the operator's");
    }
    return prove(job, inputs);
  }

  /**
   * The Job of these inputs (a run, plan or check the operator decided on), when it exists and is
   * the operator's: the one the status records by UID, or exactly the Job the operator would create
   * for these inputs. One of that name that is not is told as a look-alike; null then.
   */
  public Job forInputs(RunInputs inputs) {
    Job job = cluster.job(dbm.getMetadata().getNamespace(), inputs.jobName());
    if (job == null || !marked(job)) {
      return null;
    }
    String name = job.getMetadata().getName();
    String uid = job.getMetadata().getUid();
    boolean bound =
        Stream.concat(records(status), records(before))
            .anyMatch(r -> name.equals(r.getJob()) && Objects.equals(uid, r.getJobUid()));
    Optional<String> why = bound ? Optional.empty() : prove(job, inputs);
    why.ifPresent(w -> lookAlikes.putIfAbsent("Job/" + name, new LookAlike("Job", name, w)));
    return why.isEmpty() ? job : null;
  }

  /** Whether a Job of that name exists that is not this resource's (or not known to be yet). */
  public Optional<LookAlike> taken(String name) {
    return Optional.ofNullable(lookAlikes.get("Job/" + name));
  }

  /** Empty when the Job is exactly the one the operator would create for these inputs. */
  private Optional<String> prove(Job job, RunInputs inputs) {
    String name = job.getMetadata().getName();
    if (inputs.id() == null
        || !name.equals(Names.jobName(dbm.getMetadata().getName(), inputs.id()))) {
      return Optional.of("its name is not the one the operator gives the run it names");
    }
    // the image proves nothing by itself: it must be one the operator runs for this resource
    if (!imagesRun().contains(inputs.image())) {
      return Optional.of(
          "it runs image "
              + inputs.image()
              + ", which the operator would not run for this DatabaseMigration (spec.image is "
              + dbm.getSpec().getImage()
              + ")");
    }
    if (inputs.requestedImage() != null && !imagesAskedFor().contains(inputs.requestedImage())) {
      return Optional.of(
          "it names image "
              + inputs.requestedImage()
              + " as spec.image, which this DatabaseMigration never asked for");
    }
    Job desired;
    try {
      desired = JobFactory.desired(dbm, inputs, defaults);
    } catch (RuntimeException e) {
      return Optional.of("its annotations do not describe a run of the operator's");
    }
    return JobShape.of(job)
        .differsFrom(JobShape.ofSpec(desired))
        .map(
            where ->
                "its "
                    + where
                    + " differ from the Job the operator would create for run "
                    + inputs.id());
  }

  /**
   * The images the operator runs for this resource: spec.image, the image that reached the current
   * revision (a downgrade's, a drift check's), and the images the runs it recorded ran (a retry
   * runs one pinned to its digest).
   */
  private List<String> imagesRun() {
    List<String> images = new ArrayList<>();
    images.add(dbm.getSpec().getImage());
    images.add(status.getCurrentImage());
    images.add(before.getCurrentImage());
    for (HistoryEntry entry : status.getHistory()) {
      images.add(entry.getImage());
      images.add(entry.getPinnedImage());
    }
    return images.stream().filter(Objects::nonNull).toList();
  }

  /** The images this resource asked for: spec.image, and those of the runs it recorded. */
  private List<String> imagesAskedFor() {
    List<String> images = new ArrayList<>();
    images.add(dbm.getSpec().getImage());
    status.getHistory().forEach(entry -> images.add(entry.getRequestedImage()));
    return images.stream().filter(Objects::nonNull).toList();
  }

  /** The records of Jobs a status holds: the run under way, history, the plan, the drift check. */
  private static Stream<JobRecord> records(DatabaseMigrationStatus status) {
    List<JobRecord> records = new ArrayList<>();
    if (status.getActiveRun() != null) {
      records.add(status.getActiveRun());
    }
    records.addAll(status.getHistory());
    if (status.getPlan() != null) {
      records.add(status.getPlan());
    }
    if (status.getDrift() != null && status.getDrift().getCheck() != null) {
      records.add(status.getDrift().getCheck());
    }
    return records.stream().filter(Objects::nonNull);
  }
}
