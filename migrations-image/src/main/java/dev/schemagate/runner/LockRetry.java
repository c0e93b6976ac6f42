package dev.schemagate.runner;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What the runner does when a migration gives up on a lock (lock_timeout): its transaction is
 * rolled back and it runs again, until its retries or the Job's deadline run out.
 *
 * <p>Each attempt waits for a lock at most its own timeout: 50 ms first, twice as long each retry,
 * up to SCHEMAGATE_LOCK_TIMEOUT; the last attempt the retries allow waits SCHEMAGATE_LOCK_TIMEOUT.
 * So an app query never queues behind a migration longer than SCHEMAGATE_LOCK_TIMEOUT, and usually
 * much less. Between two attempts the runner waits, without queueing for any lock, until the
 * transactions that held the lock have ended (at most 60 s); when it did not see who held the lock,
 * it backs off (100 ms, doubling, at most 5 s). Retrying while the same transaction still holds the
 * lock could only fail again and stall the app again.
 */
final class LockRetry {
  static final long FIRST_TIMEOUT_MS = 50;
  static final long MAX_HOLDER_WAIT_MS = 60_000;
  static final long MAX_BACKOFF_MS = 5_000;

  private final RunnerSettings settings;
  private final Deadline deadline;

  LockRetry(RunnerSettings settings, Deadline deadline) {
    this.settings = settings;
    this.deadline = deadline;
  }

  /** lock_timeout of an attempt (0-based), in ms; 0 when lock timeouts are off. */
  long timeoutFor(int attempt) {
    if (settings.lockTimeoutMs() <= 0) {
      return 0;
    }
    if (attempt >= settings.lockRetries()) {
      // the last attempt: no retry follows to make up for a short wait
      return settings.lockTimeoutMs();
    }
    long t = FIRST_TIMEOUT_MS << Math.min(attempt, 20);
    return Math.min(settings.lockTimeoutMs(), t);
  }

  /**
   * After attempt {@code attempt} (0-based) of a migration gave up on a lock: waits before the next
   * attempt, or throws LOCK_TIMEOUT when the retries or the deadline are used up.
   */
  void afterTimeout(String name, String version, int attempt, LockWatch watch) {
    List<LockWatch.Holder> holders = watch.holders();
    String who =
        holders.isEmpty()
            ? "a session the runner did not catch in time"
            : String.join("; ", holders.stream().map(LockWatch.Holder::describe).toList());
    long waited = timeoutFor(attempt);
    if (attempt >= settings.lockRetries()) {
      throw exhausted(
          name,
          version,
          attempt + 1,
          who,
          holders,
          "its " + settings.lockRetries() + " retries (SCHEMAGATE_LOCK_RETRIES) are used up");
    }
    long next = timeoutFor(attempt + 1);
    Console.warn(
        name
            + " gave up on a lock after "
            + waited
            + " ms (attempt "
            + (attempt + 1)
            + " of "
            + (settings.lockRetries() + 1)
            + "), rolled back; held by "
            + who);
    long start = System.currentTimeMillis();
    if (!holders.isEmpty()) {
      long bound = Math.min(MAX_HOLDER_WAIT_MS, deadline.remainingMs() - next);
      Console.info(
          "retrying "
              + name
              + " when "
              + (holders.size() == 1
                  ? "pid " + holders.get(0).pid() + " ends its transaction"
                  : "pids "
                      + String.join(
                          ", ", holders.stream().map(h -> Integer.toString(h.pid())).toList())
                      + " end their transactions")
              + " (at most "
              + Math.max(0, bound) / 1000
              + " s)");
      while (System.currentTimeMillis() - start < bound
          && holders.stream().anyMatch(watch::stillHolding)) {
        sleep(100);
      }
      sleep(ThreadLocalRandom.current().nextLong(10, 60));
    } else {
      long backoff = Math.min(MAX_BACKOFF_MS, 100L << Math.min(attempt, 10));
      sleep(backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
    }
    if (deadline.remainingMs() < next) {
      throw exhausted(
          name,
          version,
          attempt + 1,
          who,
          holders,
          "the Job's deadline (SCHEMAGATE_DEADLINE_SECONDS) leaves no time for another attempt");
    }
    Console.info(
        "retrying "
            + name
            + " (attempt "
            + (attempt + 2)
            + ", lock timeout "
            + next
            + " ms) after "
            + (System.currentTimeMillis() - start)
            + " ms");
  }

  private RunnerException exhausted(
      String name,
      String version,
      int attempts,
      String who,
      List<LockWatch.Holder> holders,
      String why) {
    String fix =
        holders.isEmpty()
            ? "run again when the database is quieter"
            : "end that transaction (SELECT pg_terminate_backend("
                + holders.get(0).pid()
                + ")) or run again once it is done";
    return new RunnerException(
        ExitCode.LOCK_TIMEOUT,
        name
            + " could not get its locks in "
            + attempts
            + " attempt(s) of at most "
            + settings.lockTimeoutMs()
            + " ms each: "
            + why
            + "; it was rolled back (the migrations before it are applied). Last held by "
            + who
            + ". To go on: "
            + fix
            + ", or allow more with spec.locks (lockTimeout, retries).",
        version,
        null);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(Math.max(0, ms));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RunnerException(ExitCode.LOCK_TIMEOUT, "interrupted while waiting to retry");
    }
  }

  /**
   * When the runner must stop: the Job's activeDeadlineSeconds from the runner's start, less a
   * margin to report.
   */
  static final class Deadline {
    private final long endMillis;

    Deadline(long deadlineSeconds, long startMillis) {
      if (deadlineSeconds <= 0) {
        endMillis = Long.MAX_VALUE;
      } else {
        long total = deadlineSeconds * 1000;
        long margin = Math.min(30_000, Math.max(2_000, total / 10));
        endMillis = startMillis + total - margin;
      }
    }

    long remainingMs() {
      return endMillis == Long.MAX_VALUE
          ? Long.MAX_VALUE / 2
          : endMillis - System.currentTimeMillis();
    }
  }
}
