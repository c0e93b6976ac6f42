package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Migration kinds on a real PostgreSQL: a rename of app_user.name to full_name in three scripts, an
 * expand one and two contract ones (one by its name, one by its marker comment). With
 * SCHEMAGATE_CONTRACT=hold an upgrade stops before the first contract migration and reports what it
 * held back; with apply (the default) it applies them.
 */
class ExpandContractTest extends RunnerFixture {
  @BeforeEach
  void renameScripts() throws Exception {
    Files.writeString(
        migrations.resolve("V5__add_full_name.sql"),
        "ALTER TABLE app_user ADD COLUMN full_name TEXT;\n"
            + "UPDATE app_user SET full_name = name;\n");
    Files.writeString(
        migrations.resolve("V6__drop_name_default.contract.sql"),
        "ALTER TABLE app_user ALTER COLUMN name DROP NOT NULL;\n");
    Files.writeString(
        migrations.resolve("V7__drop_name.sql"),
        "-- The old column goes: an app that still reads it fails.\n"
            + "--   schemagate: contract\n"
            + "\n"
            + "ALTER TABLE app_user DROP COLUMN name;\n");
    Files.writeString(
        migrations.resolve("U7__drop_name.sql"), "ALTER TABLE app_user ADD name TEXT;");
    Files.writeString(migrations.resolve("U6__drop_name_default.contract.sql"), "SELECT 1;");
    Files.writeString(
        migrations.resolve("U5__add_full_name.sql"), "ALTER TABLE app_user DROP full_name;");
  }

  @Test
  void holdStopsBeforeTheFirstContractMigrationThenApplyRunsTheRest() throws Exception {
    var expand = runner().env("SCHEMAGATE_CONTRACT", "hold").run("migrate", "--target", "latest");
    assertThat(expand.exitCode()).as(expand.stderr()).isZero();
    assertThat(versions()).containsExactly("1:true", "2:true", "3:true", "4:true", "5:true");
    assertThat(columns()).anyMatch(c -> c.startsWith("app_user.name "));
    assertThat(expand.result())
        .contains(
            "\"toRevision\":\"5\"",
            "{\"revision\":\"5\",\"description\":\"add full name\"",
            "\"kind\":\"expand\"",
            "\"held\":[{\"revision\":\"6\",\"description\":\"drop name default\","
                + "\"kind\":\"contract\"},{\"revision\":\"7\",\"description\":\"drop name\","
                + "\"kind\":\"contract\"}]")
        .doesNotContain("\"revision\":\"6\",\"description\":\"drop name default\",\"durationMs\"");
    assertThat(expand.stderr())
        .contains(
            "holding back 2 migration(s) from the contract migration 6 drop name default on"
                + " (SCHEMAGATE_CONTRACT=hold): migrating to 5");

    // held again: the contract migration is first, nothing is applied
    var again = runner().env("SCHEMAGATE_CONTRACT", "hold").run("migrate", "--target", "latest");
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    assertThat(again.result())
        .contains("\"fromRevision\":\"5\"", "\"toRevision\":\"5\"", "\"applied\":[]", "\"held\":[");
    assertThat(again.stderr()).contains("nothing to apply before it");

    var contract = runner().env("SCHEMAGATE_CONTRACT", "apply").run("migrate", "--target", "7");
    assertThat(contract.exitCode()).as(contract.stderr()).isZero();
    assertThat(versions()).endsWith("6:true", "7:true");
    assertThat(columns()).noneMatch(c -> c.startsWith("app_user.name "));
    assertThat(contract.result())
        .contains(
            "\"revision\":\"6\",\"description\":\"drop name default\"",
            "\"revision\":\"7\",\"description\":\"drop name\"",
            "\"kind\":\"contract\"")
        .doesNotContain("\"held\"");
    // the description Flyway records leaves the suffix out
    assertThat(history()).anyMatch(h -> h.startsWith("6 drop name default "));

    var undo = runner().run("undo", "--target", "5");
    assertThat(undo.exitCode()).as(undo.stderr()).isZero();
    assertThat(undo.result()).contains("\"revision\":\"7\"", "\"kind\":\"contract\"");
  }

  @Test
  void withoutContractMigrationsHoldAppliesEverything() throws Exception {
    var run = runner().env("SCHEMAGATE_CONTRACT", "hold").run("migrate", "--target", "5");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(versions()).hasSize(5);
    assertThat(run.result()).doesNotContain("\"held\"").doesNotContain("\"kind\":\"contract\"");
  }

  @Test
  void theDefaultAppliesContractMigrationsToo() throws Exception {
    var run = runner().run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(versions()).hasSize(7);
    assertThat(run.result()).contains("\"kind\":\"contract\"").doesNotContain("\"held\"");
  }

  @Test
  void aMarkerAfterTheFirstStatementIsNoMarker() throws Exception {
    Files.writeString(
        migrations.resolve("V7__drop_name.sql"),
        "ALTER TABLE app_user DROP COLUMN name;\n-- schemagate:contract\n");
    var run = runner().env("SCHEMAGATE_CONTRACT", "hold").run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.result())
        .contains(
            "\"held\":[{\"revision\":\"6\"",
            "{\"revision\":\"7\",\"description\":\"drop name\",\"kind\":\"expand\"}");
  }

  @Test
  void aBadContractSettingIsAConfigurationError() throws Exception {
    var run = runner().env("SCHEMAGATE_CONTRACT", "later").run("migrate", "--target", "latest");
    assertThat(run.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(run.stderr()).contains("SCHEMAGATE_CONTRACT must be hold or apply, not \"later\"");
    assertThat(rows("SELECT to_regclass('flyway_schema_history')::text")).containsNull();
  }

  @Test
  void thePlanAndInfoShowEachKind() throws Exception {
    assertThat(runner().run("migrate", "--target", "4").exitCode()).isZero();
    var plan =
        runner()
            .env("SCHEMAGATE_DIRECTION", "plan")
            .env("SCHEMAGATE_TARGET_REVISION", "latest")
            .run();
    assertThat(plan.exitCode()).as(plan.stderr()).isZero();
    assertThat(plan.result())
        .contains(
            "\"revision\":\"5\",\"description\":\"add full name\"",
            "\"kind\":\"expand\"",
            "\"revision\":\"6\",\"description\":\"drop name default\"",
            "\"kind\":\"contract\"");
    var info = runner().run("info");
    assertThat(info.stdout())
        .contains("\"version\":\"6\",\"description\":\"drop name default\"")
        .contains("\"kind\":\"contract\"");
  }
}
