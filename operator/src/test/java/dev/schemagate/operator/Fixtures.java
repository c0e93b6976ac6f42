package dev.schemagate.operator;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.DatabaseSpec;
import dev.schemagate.api.Direction;
import dev.schemagate.api.GateSpec;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.SecretRef;
import dev.schemagate.operator.base.Names;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.ArrayList;
import java.util.List;

/** Resources and history entries the tests start from. */
public final class Fixtures {
  public static final String IMAGE_1 = "registry.example.com/shop/orders-migrations:1.0.0";
  public static final String IMAGE_2 = "registry.example.com/shop/orders-migrations:2.0.0";

  private Fixtures() {}

  public static DatabaseMigration migration(
      String ns, String name, String image, String target, String... gated) {
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

  public static String result(String from, String to, String... applied) {
    StringBuilder list = new StringBuilder();
    for (String revision : applied) {
      if (list.length() > 0) {
        list.append(',');
      }
      list.append("{\"revision\":\"")
          .append(revision)
          .append("\",\"description\":\"step ")
          .append(revision)
          .append("\",\"durationMs\":7}");
    }
    return "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\""
        + from
        + "\",\"toRevision\":\""
        + to
        + "\",\"applied\":["
        + list
        + "],\"durationMs\":42}";
  }

  public static DatabaseMigration withUid(DatabaseMigration dbm) {
    dbm.getMetadata().setUid("uid-1");
    dbm.getMetadata().setGeneration(1L);
    return dbm;
  }

  public static HistoryEntry succeeded(Direction direction, String from, String to) {
    HistoryEntry h = new HistoryEntry();
    h.setId(Names.hash(from, to, direction.word()));
    h.setDirection(direction);
    h.setOutcome(Outcome.Succeeded);
    h.setFromRevision(from);
    h.setToRevision(to);
    return h;
  }
}
