package dev.schemagate.operator.kube;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The primary cache keeps DatabaseMigrations without the managed fields and kubectl's copy. */
class MigrationStoreTest {
  @Test
  void keepsTheResourceWithoutManagedFieldsOrLastAppliedConfiguration() {
    DatabaseMigration dbm = migration("shop", "orders", IMAGE_1, "3");
    dbm.getMetadata().setResourceVersion("41");
    dbm.getMetadata()
        .setManagedFields(List.of(new ManagedFieldsEntryBuilder().withManager("kubectl").build()));
    dbm.getMetadata()
        .setAnnotations(
            Map.of(
                MigrationStore.LAST_APPLIED,
                "{\"spec\":{\"targetRevision\":\"3\"}}",
                "argocd.argoproj.io/sync-wave",
                "-1"));
    MigrationStore store = new MigrationStore();

    store.put(store.getKey(dbm), dbm);
    DatabaseMigration kept = store.get("shop/orders");

    assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
    assertThat(kept.getMetadata().getAnnotations())
        .containsExactly(Map.entry("argocd.argoproj.io/sync-wave", "-1"));
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("41");
    assertThat(kept.getSpec().getTargetRevision()).isEqualTo("3");
    assertThat(kept.getSpec().getImage()).isEqualTo(IMAGE_1);
    // in place: the informer's own object, which its handlers get, is as small as what is kept
    assertThat(dbm.getMetadata().getManagedFields()).isNullOrEmpty();
  }
}
