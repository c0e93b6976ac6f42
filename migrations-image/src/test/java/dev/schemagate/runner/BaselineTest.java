package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Adopting a database that exists: its tables were made by hand (or by another tool) as the first
 * three migrations would make them, and it has no schema history. Without a baseline the runner
 * changes nothing and says what to do; with one it records it and runs only the later migrations.
 */
class BaselineTest extends RunnerFixture {
  List<String> before;

  @BeforeEach
  void anExistingDatabase() throws Exception {
    execute(
        "CREATE TABLE app_user (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,"
            + " created_at TIMESTAMPTZ NOT NULL DEFAULT now(), email TEXT UNIQUE,"
            + " display_name TEXT);"
            + "INSERT INTO app_user (name, email) VALUES ('ada', 'ada@example.com');");
    before = columns();
  }

  boolean hasHistory() throws Exception {
    return rows("SELECT to_regclass('flyway_schema_history') IS NOT NULL").equals(List.of("t"));
  }

  @Test
  void withoutABaselineNothingIsTouched() throws Exception {
    var run = runner().run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isEqualTo(ExitCode.BASELINE_REQUIRED);
    assertThat(run.result())
        .contains(
            "\"error\":\"BaselineRequired\"",
            "the schema public holds 1 object (table app_user) but no history table"
                + " public.flyway_schema_history",
            "spec.baseline.revision",
            "Nothing was changed");
    assertThat(hasHistory()).isFalse();
    assertThat(columns()).isEqualTo(before);

    var plan =
        runner()
            .env("SCHEMAGATE_DIRECTION", "plan")
            .env("SCHEMAGATE_TARGET_REVISION", "latest")
            .run();
    assertThat(plan.exitCode()).isEqualTo(ExitCode.BASELINE_REQUIRED);
    assertThat(hasHistory()).isFalse();
  }

  @Test
  void withABaselineOnlyTheLaterMigrationsRun() throws Exception {
    var plan =
        runner()
            .env("SCHEMAGATE_DIRECTION", "plan")
            .env("SCHEMAGATE_TARGET_REVISION", "latest")
            .env("SCHEMAGATE_BASELINE", "3")
            .run();
    assertThat(plan.exitCode()).as(plan.stderr()).isZero();
    assertThat(plan.result())
        .contains("\"fromRevision\":\"3\"", "\"toRevision\":\"4\"", "\"revision\":\"4\"")
        .doesNotContain("\"revision\":\"1\"");
    assertThat(hasHistory()).as("a plan changes nothing").isFalse();

    var run = runner().env("SCHEMAGATE_BASELINE", "3").run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.result())
        .contains(
            "\"fromRevision\":\"3\"",
            "\"toRevision\":\"4\"",
            "\"baseline\":\"3\"",
            "\"revision\":\"4\",\"description\":\"display name required\"")
        .doesNotContain("\"revision\":\"3\"");
    assertThat(run.stderr()).contains("adopted the database: recorded 3 as the baseline");
    assertThat(versions()).containsExactly("3:true", "4:true");
    assertThat(rows("SELECT display_name FROM app_user")).containsExactly("ada");

    // adopted: the baseline matters no more
    var again = runner().env("SCHEMAGATE_BASELINE", "3").run("migrate", "--target", "latest");
    assertThat(again.exitCode()).as(again.stderr()).isZero();
    assertThat(again.result()).doesNotContain("\"baseline\"");
  }

  @Test
  void aBaselineAboveTheTargetIsRefusedBeforeAnything() throws Exception {
    var run = runner().env("SCHEMAGATE_BASELINE", "4").run("migrate", "--target", "3");
    assertThat(run.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(run.stderr()).contains("the baseline 4 (SCHEMAGATE_BASELINE) is above the target 3");
    assertThat(hasHistory()).isFalse();
  }

  @Test
  void aBaselineThatIsNoVersionIsAConfigurationError() throws Exception {
    var run = runner().env("SCHEMAGATE_BASELINE", "v3-final").run("migrate", "--target", "4");
    assertThat(run.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(run.stderr())
        .contains("SCHEMAGATE_BASELINE (spec.baseline.revision) must be a version");
    assertThat(hasHistory()).isFalse();
  }

  @Test
  void anEmptySchemaRunsEveryMigrationWhateverTheBaseline() throws Exception {
    execute("DROP TABLE app_user");
    var run = runner().env("SCHEMAGATE_BASELINE", "3").run("migrate", "--target", "latest");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(versions()).containsExactly("1:true", "2:true", "3:true", "4:true");
    assertThat(run.result()).doesNotContain("\"baseline\"");
  }
}
