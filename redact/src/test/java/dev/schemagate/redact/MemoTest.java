package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The memo of {@link Redactor#redact(String)}: the operator redacts every message of a status on
 * every reconcile, and a message it has redacted before is a lookup, not the rules again.
 */
class MemoTest {

  @Test
  void aMessageRedactedBeforeIsAnsweredFromTheMemoWithTheSameResult() {
    String message = "run failed: postgresql://app:s3cret@db/orders " + "x".repeat(4000);
    long hits = Redactor.MEMO.hits();
    String first = Redactor.redact(message);
    // a new String with the same characters, as a status read again from the API server carries
    String again = Redactor.redact(new String(message.toCharArray()));
    assertThat(again).isEqualTo(first).startsWith("run failed: postgresql://app:*****@db/orders");
    assertThat(Redactor.MEMO.hits()).isEqualTo(hits + 1);
    // the redacted message, as the next reconcile finds it in the status
    String stored = Redactor.redact(new String(first.toCharArray()));
    assertThat(Redactor.redact(new String(first.toCharArray()))).isEqualTo(stored).isEqualTo(first);
    assertThat(Redactor.MEMO.hits()).isEqualTo(hits + 2);
  }

  @Test
  void theRulesRunOnceForTheSameText() {
    Memo memo = new Memo(10, 1000);
    AtomicInteger runs = new AtomicInteger();
    for (int i = 0; i < 5; i++) {
      assertThat(memo.get(new String("password=x y".toCharArray()), count(runs)))
          .isEqualTo("password=*****");
    }
    assertThat(runs).hasValue(1);
    assertThat(memo.hits()).isEqualTo(4);
    assertThat(memo.misses()).isEqualTo(1);
  }

  @Test
  void aResultEqualToItsInputKeepsNoCharacters() {
    Memo memo = new Memo(10, 1000);
    assertThat(memo.get("nothing secret here", Redactor::redactOnce))
        .isEqualTo("nothing secret here");
    assertThat(memo.size()).isEqualTo(1);
    assertThat(memo.chars()).isZero();
  }

  @Test
  void itKeepsAtMostItsEntriesAndCharactersTheLeastRecentlyUsedGoFirst() {
    Memo memo = new Memo(3, 6400);
    for (int i = 0; i < 10; i++) {
      memo.get("password=" + i, Redactor::redactOnce);
    }
    assertThat(memo.size()).isEqualTo(3);
    memo.get("password=7", Redactor::redactOnce);
    assertThat(memo.hits()).isEqualTo(1);
    memo.get("password=0", Redactor::redactOnce);
    assertThat(memo.hits()).as("the oldest went first").isEqualTo(1);

    Memo small = new Memo(1000, 3200);
    for (int i = 0; i < 100; i++) {
      small.get(i + " password=" + "y".repeat(60), s -> s.substring(0, 50).toUpperCase());
    }
    assertThat(small.chars()).isEqualTo(3200);
    assertThat(small.size()).isEqualTo(64);
    small.get("z".repeat(200), s -> s.toUpperCase());
    assertThat(small.size())
        .as("a result longer than a 64th of the characters is not kept")
        .isEqualTo(64);
  }

  @Test
  void threadsRedactingAtOnceGetWhatTheRulesGive() throws Exception {
    List<String> messages = new ArrayList<>();
    for (Corpus.Case c : Corpus.load().shapes()) {
      messages.add(c.input());
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(
            pool.submit(
                () -> {
                  for (int round = 0; round < 20; round++) {
                    for (String m : messages) {
                      if (!Redactor.redact(new String(m.toCharArray()))
                          .equals(Redactor.redactOnce(m))) {
                        return false;
                      }
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static java.util.function.UnaryOperator<String> count(AtomicInteger runs) {
    return s -> {
      runs.incrementAndGet();
      return Redactor.redactOnce(s);
    };
  }
}
