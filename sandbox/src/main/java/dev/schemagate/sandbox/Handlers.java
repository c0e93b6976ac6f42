package dev.schemagate.sandbox;

import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.util.function.Consumer;

/** Informer handlers from lambdas. */
public final class Handlers {
  private Handlers() {}

  /** Hands every added or updated object to {@code onChange}. */
  public static <T> ResourceEventHandler<T> onChange(Consumer<T> onChange) {
    return onChange(onChange, deleted -> {});
  }

  public static <T> ResourceEventHandler<T> onChange(Consumer<T> onChange, Consumer<T> onDelete) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        onChange.accept(obj);
      }

      @Override
      public void onUpdate(T old, T obj) {
        onChange.accept(obj);
      }

      @Override
      public void onDelete(T obj, boolean finalStateUnknown) {
        onDelete.accept(obj);
      }
    };
  }
}
