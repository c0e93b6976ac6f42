package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseSpec;
import dev.schemagate.api.GateSpec;
import dev.schemagate.api.SecretRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.ArrayList;
import java.util.List;

final class Fixtures {
  static final String IMAGE_1 = "registry.example.com/shop/orders-migrations:1.0.0";
  static final String IMAGE_2 = "registry.example.com/shop/orders-migrations:2.0.0";

  private Fixtures() {}

  static DatabaseMigration migration(String ns, String name, String image, String target, String... gated) {
    DatabaseMigration dbm = new DatabaseMigration();
    dbm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    DatabaseMigrationSpec spec = new DatabaseMigrationSpec();
    spec.setImage(image);
    spec.setTargetRevision(target);
    DatabaseSpec database = new DatabaseSpec();
    database.setSecretRef(new SecretRef("orders-db"));
    spec.setDatabase(database);
    GateSpec gate = new GateSpec();
    gate.setDeployments(new ArrayList<>(List.of(gated)));
    spec.setGate(gate);
    dbm.setSpec(spec);
    return dbm;
  }

  static String result(String from, String to, String... applied) {
    StringBuilder list = new StringBuilder();
    for (String revision : applied) {
      if (list.length() > 0) {
        list.append(',');
      }
      list.append("{\"revision\":\"").append(revision).append("\",\"description\":\"step ").append(revision).append("\",\"durationMs\":7}");
    }
    return "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"" + from + "\",\"toRevision\":\"" + to
        + "\",\"applied\":[" + list + "],\"durationMs\":42}";
  }
}
