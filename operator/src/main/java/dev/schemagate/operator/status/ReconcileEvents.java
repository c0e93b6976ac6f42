package dev.schemagate.operator.status;

import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Reason;
import java.util.ArrayList;
import java.util.List;

/**
 * What one reconcile did, told as few Events as say it all: holding the app and starting the run
 * that needs it are one Event (RunStarted), recording a success and releasing the app are one
 * (RunSucceeded); RolloutHeld and RolloutReleased stand alone only when nothing else happened.
 * Events that need no summing up (a superseded run, a new Stalled reason) come first, as told.
 */
public final class ReconcileEvents {
  /** One Event to record. */
  public record Notice(EventReason reason, String message) {}

  private final List<Notice> told = new ArrayList<>();
  private final List<String> held = new ArrayList<>();
  private final List<String> released = new ArrayList<>();
  private String started;
  private String adopted;
  private HistoryEntry finished;
  private String finishedJob;

  public void tell(EventReason reason, String message) {
    told.add(new Notice(reason, message));
  }

  public void held(List<String> names) {
    held.addAll(names);
  }

  /** Deployments told as held whose hold the API server refused. */
  public void notHeld(List<String> names) {
    held.removeAll(names);
  }

  public void released(List<String> names) {
    released.addAll(names);
  }

  /** Deployments told as released whose release the API server refused. */
  public void notReleased(List<String> names) {
    released.removeAll(names);
  }

  /** An Event told in this reconcile that did not happen after all (its write was refused). */
  public void withdraw(EventReason reason) {
    told.removeIf(notice -> notice.reason() == reason);
  }

  public void started(String message) {
    started = message;
  }

  /** The run told as started did not start after all. */
  public void notStarted() {
    started = null;
  }

  /** A Job that existed already became the run; this wins over {@link #started}. */
  public void adopted(String message) {
    adopted = message;
  }

  public void finished(HistoryEntry entry, String job) {
    finished = entry;
    finishedJob = job;
  }

  /**
   * The Events to record, in order.
   *
   * @param target the spec's target revision
   * @param revision the revision the database is at
   */
  public List<Notice> notices(String target, String revision) {
    List<Notice> notices = new ArrayList<>(told);
    String heldText = held.isEmpty() ? "" : "; paused " + String.join(", ", held);
    String releasedText = released.isEmpty() ? "" : "; resumed " + String.join(", ", released);
    if (finished != null) {
      if (finished.getOutcome() == Outcome.Succeeded) {
        notices.add(
            new Notice(
                EventReason.RunSucceeded,
                finished.getMessage() + " by Job " + finishedJob + releasedText));
      } else if (Reason.JobDeleted.name().equals(finished.getReason())) {
        notices.add(new Notice(EventReason.JobDeleted, finished.getMessage()));
      } else {
        notices.add(
            new Notice(EventReason.RunFailed, finished.getReason() + ": " + finished.getMessage()));
      }
    } else if (!released.isEmpty()) {
      notices.add(
          new Notice(
              EventReason.RolloutReleased,
              "resumed " + String.join(", ", released) + ": the database is at " + revision));
    }
    if (adopted != null) {
      notices.add(new Notice(EventReason.JobAdopted, adopted + heldText));
    } else if (started != null) {
      notices.add(new Notice(EventReason.RunStarted, started + heldText));
    } else if (!held.isEmpty()) {
      notices.add(
          new Notice(
              EventReason.RolloutHeld,
              "paused " + String.join(", ", held) + " until the database reaches " + target));
    }
    if (finished != null && finished.getOutcome() == Outcome.Failed && !released.isEmpty()) {
      notices.add(
          new Notice(EventReason.RolloutReleased, "resumed " + String.join(", ", released)));
    }
    return notices;
  }
}
