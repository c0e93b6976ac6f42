package dev.schemagate.operator.kube;

import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * When the open Jobs of a DatabaseMigration are read from the API server rather than trusted to the
 * cache. The reconcile reads the informers' caches, and a cache is only as current as its watch: a
 * Job's end that the watch never brings (an event lost) leaves the run open in the cache for good,
 * since a finished Job never changes again and an informer lists again only when its watch is told
 * 410 Gone. Nor does a resync help: it hands the reconcile the cache's own copy. So a Job the cache
 * shows open is read from the API server:
 *
 * <ul>
 *   <li>once its pods have ended (the Job controller marks a Job within a second of that): at once,
 *       then after {@link #FIRST}, doubling up to {@link #MOST}, while the API server too has it
 *       open;
 *   <li>otherwise every {@link #RUNNING} while it runs, in case its pods' ends were lost as well.
 * </ul>
 *
 * The reconcile is asked back for the next read, so the catch-up needs no event. A Job that has
 * ended in the cache is never read. Each call forgets the Jobs of the resource no longer open.
 */
final class JobCatchUp {
  static final Duration FIRST = Duration.ofSeconds(1);
  static final Duration MOST = Duration.ofSeconds(30);
  static final Duration RUNNING = Duration.ofMinutes(1);

  /**
   * The next read of a Job, the wait before it (its backoff), and whether its pods had ended when
   * planned.
   */
  private record Check(Instant due, Duration backoff, boolean podsEnded) {}

  private final Map<ResourceID, Map<String, Check>> checks = new ConcurrentHashMap<>();

  /**
   * Reads the open Jobs of a resource that are due.
   *
   * @param owner the DatabaseMigration
   * @param open its Jobs the cache shows open
   * @param podsEnded whether a Job's pods have all ended, as the cache shows them
   * @param read reads a Job from the API server (handing it to the cache) and answers whether it
   *     has ended there
   * @return when to look again, while a Job is open
   */
  Optional<Duration> due(
      ResourceID owner,
      List<Job> open,
      Predicate<Job> podsEnded,
      Predicate<Job> read,
      Instant now) {
    Map<String, Check> planned = checks.getOrDefault(owner, Map.of());
    Map<String, Check> next = new HashMap<>();
    Duration soonest = null;
    for (Job job : open) {
      String uid = job.getMetadata().getUid();
      if (uid == null) {
        continue;
      }
      boolean ended = podsEnded.test(job);
      Check check = planned.get(uid);
      if (check == null || (ended && !check.podsEnded())) {
        // a Job met open for the first time is not read: it was just made, or was just listed
        check =
            ended
                ? new Check(now, Duration.ZERO, true)
                : new Check(now.plus(RUNNING), RUNNING, false);
      }
      if (!now.isBefore(check.due())) {
        if (read.test(job)) {
          continue; // ended: the reconcile that follows reads it from the cache
        }
        Duration backoff =
            !ended
                ? RUNNING
                : check.backoff().isZero() || !check.podsEnded()
                    ? FIRST
                    : min(check.backoff().multipliedBy(2), MOST);
        check = new Check(now.plus(backoff), backoff, ended);
      }
      next.put(uid, check);
      soonest = min(soonest, Duration.between(now, check.due()));
    }
    if (next.isEmpty()) {
      checks.remove(owner);
    } else {
      checks.put(owner, next);
    }
    return Optional.ofNullable(soonest);
  }

  /** The resource is gone: nothing of its is read again. */
  void forget(ResourceID owner) {
    checks.remove(owner);
  }

  private static Duration min(Duration a, Duration b) {
    return a == null || b.compareTo(a) < 0 ? b : a;
  }
}
