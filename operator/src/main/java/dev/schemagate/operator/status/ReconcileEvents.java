package dev.schemagate.operator.status;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.operator.kube.EventRecorder;
import java.util.ArrayList;
import java.util.List;

/**
 * What one reconcile did, told as few Events as say it all: holding the app and starting the run
 * that needs it are one Event (RunStarted), recording a success and releasing the app are one
 * (RunSucceeded); RolloutHeld and RolloutReleased stand alone only when nothing else happened.
 */
public final class ReconcileEvents {
  private final List<String> held = new ArrayList<>();
  private final List<String> released = new ArrayList<>();
  private String started;
  private EventReason adopted;
  private String adoptedMessage;
  private HistoryEntry finished;
  private String finishedJob;

  public void held(List<String> names) {
    held.addAll(names);
  }

  public void released(List<String> names) {
    released.addAll(names);
  }

  public void started(String message) {
    started = message;
  }

  public void adopted(String message) {
    adopted = EventReason.JobAdopted;
    adoptedMessage = message;
  }

  public void finished(HistoryEntry entry, String job) {
    finished = entry;
    finishedJob = job;
  }

  public void emit(DatabaseMigration dbm, EventRecorder recorder, String target, String revision) {
    String heldText = held.isEmpty() ? "" : "; paused " + String.join(", ", held);
    String releasedText = released.isEmpty() ? "" : "; resumed " + String.join(", ", released);
    if (finished != null) {
      if (finished.getOutcome() == Outcome.Succeeded) {
        recorder.record(dbm, EventReason.RunSucceeded, finished.getMessage() + " by Job " + finishedJob + releasedText);
      } else {
        recorder.record(dbm, EventReason.RunFailed, finished.getReason() + ": " + finished.getMessage());
      }
    } else if (!released.isEmpty()) {
      recorder.record(dbm, EventReason.RolloutReleased, "resumed " + String.join(", ", released) + ": the database is at " + revision);
    }
    if (adopted != null) {
      recorder.record(dbm, adopted, adoptedMessage + heldText);
    } else if (started != null) {
      recorder.record(dbm, EventReason.RunStarted, started + heldText);
    } else if (!held.isEmpty()) {
      recorder.record(dbm, EventReason.RolloutHeld, "paused " + String.join(", ", held) + " until the database reaches " + target);
    }
    if (finished != null && finished.getOutcome() == Outcome.Failed && !released.isEmpty()) {
      recorder.record(dbm, EventReason.RolloutReleased, "resumed " + String.join(", ", released));
    }
  }
}
