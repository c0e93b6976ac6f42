package dev.schemagate.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A database schema migration that gates the rollout of the Deployments that depend on it. */
@Group(DatabaseMigration.GROUP)
@Version(DatabaseMigration.VERSION)
@ShortNames("dbm")
@AdditionalPrinterColumn(
    name = "TARGET",
    jsonPath = ".spec.targetRevision",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "CURRENT",
    jsonPath = ".status.currentRevision",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "PHASE",
    jsonPath = ".status.phase",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "AWAITING",
    jsonPath = ".status.plan.awaitingApproval",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(
    name = "DRIFTED",
    jsonPath = ".status.drift.live.drifted",
    type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(
    name = "AGE",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(
    name = "JOB",
    jsonPath = ".status.activeRun.job",
    type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
public class DatabaseMigration
    extends CustomResource<DatabaseMigrationSpec, DatabaseMigrationStatus> implements Namespaced {

  public static final String GROUP = "schemagate.dev";
  public static final String VERSION = "v1alpha1";
}
