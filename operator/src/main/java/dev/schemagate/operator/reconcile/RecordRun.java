package dev.schemagate.operator.reconcile;

import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Run;
import dev.schemagate.operator.base.Time;
import dev.schemagate.operator.run.PinnedImage;
import dev.schemagate.operator.run.RunRecorder;
import dev.schemagate.operator.run.RunState;
import dev.schemagate.operator.status.EventReason;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Step: record the run under way once it has ended. A finished run (succeeded or failed) goes into
 * history, and on success sets the revision the database is at; a run whose container never started
 * and whose spec has changed since is superseded: into history too, its Job deleted. The place it
 * leaves is taken by a Job of ours that no status records, if there is one.
 */
public final class RecordRun {
  private static final Logger LOG = Logger.getLogger(RecordRun.class);

  private RecordRun() {}

  public static void apply(ReconcileState state) {
    if (recorded(state)) {
      ObserveRun.apply(state);
      recorded(state);
    }
  }

  /** Records the run under way if it has ended; returns whether it did. */
  static boolean recorded(ReconcileState state) {
    if (!state.runUnderWay()) {
      return false;
    }
    RunState observed = state.runState();
    if (observed instanceof RunState.Blocked
        && !Objects.equals(state.run().getGeneration(), state.generation())) {
      supersede(state);
      return true;
    }
    if (observed instanceof RunState.Succeeded || observed instanceof RunState.Failed) {
      finish(state);
      return true;
    }
    return false;
  }

  private static void finish(ReconcileState state) {
    Run run = state.run();
    Instant now = state.now();
    HistoryEntry entry = record(state);
    Instant started = Optional.ofNullable(Time.parse(run.getStartedAt())).orElse(now);
    state
        .measurements()
        .runFinished(
            run.getDirection(),
            entry.getOutcome(),
            entry.getReason(),
            Duration.between(started, now));
    state.events().finished(entry, run.getJob());
    String ref = state.namespace() + "/" + state.name();
    if (entry.getOutcome() == Outcome.Succeeded) {
      LOG.infof("%s: run %s succeeded: %s", ref, run.getId(), entry.getMessage());
    } else {
      LOG.infof(
          "%s: run %s failed (%s): %s", ref, run.getId(), entry.getReason(), entry.getMessage());
    }
  }

  private static void supersede(ReconcileState state) {
    String job = state.run().getJob();
    state.changes().deleteSupersededJob(job);
    HistoryEntry entry = record(state);
    state
        .events()
        .tell(
            EventReason.RunSuperseded,
            "deleted Job " + job + ", which never started: " + entry.getMessage());
  }

  private static HistoryEntry record(ReconcileState state) {
    int limit = state.resource().getSpec().getHistoryLimit();
    String imageId =
        PinnedImage.imageId(state.cluster().pods(state.namespace(), state.run().getId()));
    HistoryEntry entry =
        RunRecorder.finish(
            state.status(), state.run(), state.runState(), imageId, limit, state.now());
    state.runRecorded();
    return entry;
  }
}
