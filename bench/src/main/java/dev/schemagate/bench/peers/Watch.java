package dev.schemagate.bench.peers;

import static dev.schemagate.sandbox.Handlers.onChange;

import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * When an object first met a condition, as a watch of the benchmark's own sees it (to the
 * millisecond; no polling).
 */
public final class Watch<T> implements AutoCloseable {
  private final CompletableFuture<Instant> met = new CompletableFuture<>();
  private final SharedIndexInformer<T> informer;
  private final String what;

  private Watch(Informable<T> source, Predicate<T> condition, String what) {
    this.what = what;
    this.informer =
        source.inform(
            onChange(
                t -> {
                  if (!met.isDone() && condition.test(t)) {
                    met.complete(Instant.now());
                  }
                }));
  }

  /** Starts watching (returns once the watch has listed what is there). */
  public static <T> Watch<T> until(Informable<T> source, String what, Predicate<T> condition) {
    return new Watch<>(source, condition, what);
  }

  /** When the condition first held; waits for it up to the limit. */
  public Instant await(Duration limit) throws Exception {
    try {
      return met.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("timed out after " + limit + " waiting until " + what, e);
    }
  }

  @Override
  public void close() {
    informer.close();
  }
}
