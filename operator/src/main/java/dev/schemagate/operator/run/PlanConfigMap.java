package dev.schemagate.operator.run;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.PlanStatus;
import dev.schemagate.operator.base.Names;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The ConfigMap of a DatabaseMigration's plan (spec.approval: Manual): the plan's hash, its summary
 * and its SQL, redacted, for a person to review before approving it. Pure.
 */
public final class PlanConfigMap {
  /** The key of the plan's SQL in its ConfigMap. */
  public static final String SQL_KEY = "plan.sql";

  private PlanConfigMap() {}

  /** The ConfigMap of a DatabaseMigration's plan: {@code <name>-plan}. */
  public static String name(String migration) {
    return Names.prefix(migration, 253 - 5) + "-plan";
  }

  /** The ConfigMap that holds a plan's SQL, owned by its DatabaseMigration. */
  public static ConfigMap of(DatabaseMigration dbm, PlanStatus plan, String sql) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put("hash", plan.getHash());
    data.put("summary", plan.getSummary());
    data.put(
        SQL_KEY,
        sql
            + (Boolean.TRUE.equals(plan.getSqlTruncated())
                ? "\n-- (the beginning of "
                    + plan.getSqlBytes()
                    + " bytes of SQL: kubectl logs job/"
                    + plan.getJob()
                    + " has all of it, redacted)\n"
                : ""));
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(plan.getConfigMap())
        .withNamespace(dbm.getMetadata().getNamespace())
        .withLabels(Map.of("app.kubernetes.io/managed-by", "schemagate"))
        .withAnnotations(Map.of(RunCodec.MIGRATION, dbm.getMetadata().getName()))
        .withOwnerReferences(RunCodec.ownerReference(dbm))
        .endMetadata()
        .withData(data)
        .build();
  }
}
