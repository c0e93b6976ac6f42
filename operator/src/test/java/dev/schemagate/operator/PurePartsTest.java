package dev.schemagate.operator;

import static dev.schemagate.operator.Fixtures.IMAGE_1;
import static dev.schemagate.operator.Fixtures.IMAGE_2;
import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigration;
import dev.schemagate.api.DatabaseMigrationStatus;
import dev.schemagate.api.Direction;
import dev.schemagate.api.DowngradePolicy;
import dev.schemagate.api.DowngradeSpec;
import dev.schemagate.api.HistoryEntry;
import dev.schemagate.api.LocksSpec;
import dev.schemagate.api.Outcome;
import dev.schemagate.api.Run;
import dev.schemagate.api.Tool;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unit tests of the pure pieces: names, the Job, the planner, results, redaction, conditions. */
class PurePartsTest {

  static DatabaseMigration withUid(DatabaseMigration dbm) {
    dbm.getMetadata().setUid("uid-1");
    dbm.getMetadata().setGeneration(1L);
    return dbm;
  }

  static HistoryEntry succeeded(Direction direction, String from, String to) {
    HistoryEntry h = new HistoryEntry();
    h.setId(Names.hash(from, to, direction.word()));
    h.setDirection(direction);
    h.setOutcome(Outcome.Succeeded);
    h.setFromRevision(from);
    h.setToRevision(to);
    return h;
  }

  @Test
  void jobNamesAreDeterministicShortAndValid() {
    String id = Names.hash("a", "b");
    assertThat(id).hasSize(10).isEqualTo(Names.hash("a", "b")).isNotEqualTo(Names.hash("a", "c"));
    assertThat(Names.hash("ab", "c")).isNotEqualTo(Names.hash("a", "bc"));
    String longName = "a".repeat(60) + "-" + "b".repeat(100);
    assertThat(Names.jobName(longName, id)).hasSize(63).endsWith("-" + id);
    assertThat(Names.jobName("orders", id)).isEqualTo("orders-" + id);
    assertThat(Names.jobName("a".repeat(51) + "-x", id)).doesNotContain("--");
    assertThat(Names.isValidObjectName("orders-api")).isTrue();
    assertThat(Names.isValidObjectName("Orders_API")).isFalse();
    assertThat(Names.isValidObjectName("-x")).isFalse();
  }

  @Test
  void theJobFollowsTheContract() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "0005", "orders-api"));
    dbm.getSpec().setEnv(new ArrayList<>(List.of(new EnvVar("LOG_LEVEL", "debug", null))));
    RunInputs run = new RunInputs("abcdef0123", "orders-abcdef0123", Direction.UPGRADE, IMAGE_1, IMAGE_1, "0005", "0003", 1);
    Job job = JobFactory.desired(dbm, run, 900);
    var pod = job.getSpec().getTemplate().getSpec();
    var container = pod.getContainers().get(0);
    assertThat(job.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getController()).isTrue();
      assertThat(o.getUid()).isEqualTo("uid-1");
    });
    assertThat(job.getSpec().getBackoffLimit()).isZero();
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(900L);
    assertThat(job.getSpec().getPodFailurePolicy().getRules()).singleElement().satisfies(r -> {
      assertThat(r.getAction()).isEqualTo("Ignore");
      assertThat(r.getOnPodConditions().get(0).getType()).isEqualTo("DisruptionTarget");
    });
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(container.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(container.getCommand()).as("flyway: the runner's own entrypoint").isNullOrEmpty();
    assertThat(container.getArgs()).containsExactly("migrate", "--target", "0005");
    assertThat(container.getEnvFrom()).singleElement().satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("orders-db"));
    assertThat(container.getEnv()).extracting(e -> e.getName() + "=" + e.getValue()).contains(
        "LOG_LEVEL=debug",
        "SCHEMAGATE_TARGET_REVISION=0005",
        "SCHEMAGATE_DIRECTION=upgrade",
        "SCHEMAGATE_MIGRATION=shop/orders",
        "SCHEMAGATE_RUN_ID=abcdef0123",
        "SCHEMAGATE_RESULT_FILE=/dev/termination-log");
  }

  @Test
  void theLockSettingsReachTheJobAndTheirExitCodesHaveReasons() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "0005", "orders-api"));
    RunInputs run = new RunInputs("abcdef0123", "orders-abcdef0123", Direction.UPGRADE, IMAGE_1, IMAGE_1, "0005", "0003", 1);
    var plain = JobFactory.desired(dbm, run, 600).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(plain).extracting(EnvVar::getName).contains("SCHEMAGATE_DEADLINE_SECONDS").doesNotContain("SCHEMAGATE_LOCK_TIMEOUT");
    LocksSpec locks = new LocksSpec();
    locks.setLockTimeout("500ms");
    locks.setRetries(3);
    locks.setStatementTimeout("5m");
    locks.setRunLockWait("30s");
    dbm.getSpec().setLocks(locks);
    var env = JobFactory.desired(dbm, run, 600).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env).extracting(e -> e.getName() + "=" + e.getValue()).contains("SCHEMAGATE_DEADLINE_SECONDS=600",
        "SCHEMAGATE_LOCK_TIMEOUT=500ms", "SCHEMAGATE_LOCK_RETRIES=3", "SCHEMAGATE_STATEMENT_TIMEOUT=5m", "SCHEMAGATE_RUN_LOCK_WAIT=30s");
    assertThat(RunObserver.reasonForRunnerExit(6)).isEqualTo("MigrationLockHeld");
    assertThat(RunObserver.reasonForRunnerExit(7)).isEqualTo("LockTimeout");
    assertThat(RunObserver.reasonForRunnerExit(8)).isEqualTo("RepairNeeded");
    assertThat(RunObserver.reasonForRunnerExit(9)).isEqualTo("MultipleHeads");
  }

  @Test
  void theCommandPerTool() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "head"));
    dbm.getSpec().setTool(Tool.ALEMBIC);
    assertThat(ToolCommand.command(dbm.getSpec())).startsWith("/bin/sh", "-c");
    assertThat(ToolCommand.command(dbm.getSpec()).get(2)).contains("alembic \"$verb\" \"$SCHEMAGATE_TARGET_REVISION\"", "alembic current", "$SCHEMAGATE_RESULT_FILE");
    assertThat(ToolCommand.args(dbm.getSpec(), Direction.UPGRADE, "head")).isNull();
    dbm.getSpec().setTool(Tool.CUSTOM);
    dbm.getSpec().setCommand(List.of("/app/migrate", "--yes"));
    assertThat(ToolCommand.command(dbm.getSpec())).containsExactly("/app/migrate", "--yes");
    dbm.getSpec().setTool(Tool.FLYWAY);
    dbm.getSpec().setCommand(null);
    assertThat(ToolCommand.args(dbm.getSpec(), Direction.DOWNGRADE, "3")).containsExactly("undo", "--target", "3");
  }

  @Test
  void plannerStartsAnUpgradeWhenTheSpecDiffersFromTheLastSuccess() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.Start.class);
    Decision.Start start = (Decision.Start) RunPlanner.decide(dbm);
    assertThat(start.run().direction()).isEqualTo(Direction.UPGRADE);
    assertThat(start.run().image()).isEqualTo(IMAGE_1);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_1);
    status.setAppliedTargetRevision("3");
    status.setCurrentRevision("3");
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.UpToDate.class);
    dbm.getSpec().setSuspend(true);
    assertThat(RunPlanner.decide(dbm)).isEqualTo(new Decision.Suspended(false));
  }

  @Test
  void plannerRefusesADowngradeUnlessAllowedAndThenUsesTheCurrentImage() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setAppliedImage(IMAGE_2);
    status.setAppliedTargetRevision("5");
    status.setCurrentRevision("5");
    status.setCurrentImage(IMAGE_2);
    status.setHistory(new ArrayList<>(List.of(succeeded(Direction.UPGRADE, "3", "5"), succeeded(Direction.UPGRADE, "", "3"))));
    dbm.setStatus(status);
    Decision refused = RunPlanner.decide(dbm);
    assertThat(refused).isInstanceOf(Decision.Refused.class);
    assertThat(((Decision.Refused) refused).reason()).isEqualTo("DowngradeForbidden");
    DowngradeSpec allow = new DowngradeSpec();
    allow.setPolicy(DowngradePolicy.Allow);
    dbm.getSpec().setDowngrade(allow);
    Decision.Start start = (Decision.Start) RunPlanner.decide(dbm);
    assertThat(start.run().direction()).isEqualTo(Direction.DOWNGRADE);
    assertThat(start.run().image()).isEqualTo(IMAGE_2);
    assertThat(start.run().requestedImage()).isEqualTo(IMAGE_1);
  }

  @Test
  void plannerWaitsForARetryAfterAFailureAndTheRetryAnnotationChangesTheRun() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3"));
    RunInputs first = ((Decision.Start) RunPlanner.decide(dbm)).run();
    HistoryEntry failed = new HistoryEntry();
    failed.setId(first.id());
    failed.setOutcome(Outcome.Failed);
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    status.setHistory(new ArrayList<>(List.of(failed)));
    dbm.setStatus(status);
    assertThat(RunPlanner.decide(dbm)).isInstanceOf(Decision.AwaitingRetry.class);
    dbm.getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Map.of(Keys.RETRY, "2026-11-25")));
    RunInputs retry = ((Decision.Start) RunPlanner.decide(dbm)).run();
    assertThat(retry.id()).isNotEqualTo(first.id());
    dbm.getMetadata().setAnnotations(null);
    dbm.getMetadata().setGeneration(2L);
    assertThat(RunPlanner.decide(dbm)).as("a spec change is a new run").isInstanceOf(Decision.Start.class);
  }

  @Test
  void lineageTellsADowngradeFromAReUpgradeWithOpaqueRevisions() {
    List<HistoryEntry> history = new ArrayList<>(List.of(
        succeeded(Direction.DOWNGRADE, "c3", "b2"),
        succeeded(Direction.UPGRADE, "b2", "c3"),
        succeeded(Direction.UPGRADE, "", "b2")));
    assertThat(RevisionLineage.isBelowCurrent("c3", "b2", history, false)).as("c3 is above b2 again").isFalse();
    assertThat(RevisionLineage.isBelowCurrent("b2", "c3", history.subList(1, 3), false)).isTrue();
    assertThat(RevisionLineage.isBelowCurrent("zz", "c3", history, false)).as("unknown: upgrade").isFalse();
    assertThat(RevisionLineage.isBelowCurrent("head", "c3", history, false)).isFalse();
    assertThat(RevisionLineage.isBelowCurrent("2", "10", List.of(), true)).as("flyway versions are ordered").isTrue();
    assertThat(RevisionLineage.isBelowCurrent("1.10", "1.9", List.of(), true)).isFalse();
    assertThat(RevisionLineage.isBelowCurrent("latest", "4", List.of(), true)).isFalse();
  }

  @Test
  void aRevisionPassedThroughInOneRunIsBelowItsEnd() {
    HistoryEntry run = succeeded(Direction.UPGRADE, "", "0003");
    run.getApplied().addAll(List.of(new dev.schemagate.api.AppliedMigration("0001", "a", 1L),
        new dev.schemagate.api.AppliedMigration("0002", "b", 1L), new dev.schemagate.api.AppliedMigration("0003", "c", 1L)));
    assertThat(RevisionLineage.isBelowCurrent("0002", "0003", List.of(run), false)).isTrue();
    assertThat(RevisionLineage.isBelowCurrent("0001", "0003", List.of(run), false)).isTrue();
    assertThat(RevisionLineage.isBelowCurrent("0004", "0003", List.of(run), false)).isFalse();
  }

  @Test
  void resultsAreReadFromJsonAlembicTextOrALogTail() {
    RunResult json = ResultParser.parse("{\"tool\":\"flyway\",\"fromRevision\":\"1\",\"toRevision\":\"3\",\"applied\":[{\"revision\":\"2\",\"description\":\"add email\",\"durationMs\":12},{\"revision\":\"3\"}],\"omitted\":5}");
    assertThat(json.fromRevision()).isEqualTo("1");
    assertThat(json.toRevision()).isEqualTo("3");
    assertThat(json.applied()).extracting(a -> a.getRevision()).containsExactly("2", "3");
    assertThat(json.applied().get(0).getDurationMs()).isEqualTo(12L);
    assertThat(json.omitted()).isEqualTo(5);
    assertThat(ResultParser.parse("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n3f2a9c1b7d10 (head)\n").toRevision()).isEqualTo("3f2a9c1b7d10");
    assertThat(ResultParser.parse("0003\n").toRevision()).isEqualTo("0003");
    RunResult tail = ResultParser.parse("Traceback (most recent call last):\n  File x\nsqlalchemy.exc.ProgrammingError: relation \"app_user\" does not exist");
    assertThat(tail.toRevision()).isNull();
    assertThat(tail.message()).contains("relation \"app_user\" does not exist");
    assertThat(ResultParser.parse("").toRevision()).isNull();
    assertThat(ResultParser.parse("x".repeat(5000)).message()).hasSize(ResultParser.MAX_MESSAGE);
  }

  @Test
  void redactionRemovesUrlPasswordsAndKeyValuePasswords() {
    assertThat(Redactor.redact("postgresql+asyncpg://app:hunter2@db:5432/orders")).isEqualTo("postgresql+asyncpg://app:*****@db:5432/orders");
    assertThat(Redactor.redact("jdbc:postgresql://db/orders?user=app&password=hunter2&ssl=true")).doesNotContain("hunter2").contains("ssl=true");
    assertThat(Redactor.redact("PGPASSWORD=hunter2 psql")).doesNotContain("hunter2");
    assertThat(Redactor.redact("{\"password\": \"hunter2\"}")).doesNotContain("hunter2");
    assertThat(Redactor.redact("host=db user=app password=hunter2 dbname=x")).doesNotContain("hunter2").contains("dbname=x");
    assertThat(Redactor.redact("relation app_user does not exist")).isEqualTo("relation app_user does not exist");
  }

  @Test
  void conditionsKeepTransitionTimeUnlessTheStatusFlips() {
    Instant t1 = Instant.parse("2026-11-25T10:00:00Z");
    Instant t2 = Instant.parse("2026-11-25T10:05:00Z");
    List<Condition> c = Conditions.set(new ArrayList<>(), Conditions.READY, false, "MigrationRunning", "m", 1, t1);
    c = Conditions.set(c, Conditions.READY, false, "MigrationFailed", "n", 2, t2);
    assertThat(c.get(0).getLastTransitionTime()).isEqualTo("2026-11-25T10:00:00Z");
    assertThat(c.get(0).getReason()).isEqualTo("MigrationFailed");
    assertThat(c.get(0).getObservedGeneration()).isEqualTo(2L);
    c = Conditions.set(c, Conditions.READY, true, "UpToDate", "", 2, t2);
    assertThat(c.get(0).getLastTransitionTime()).isEqualTo("2026-11-25T10:05:00Z");
  }

  @Test
  void recordingASuccessSetsTheCurrentRevisionAndCapsHistory() {
    DatabaseMigrationStatus status = new DatabaseMigrationStatus();
    for (int i = 0; i < 3; i++) {
      HistoryEntry old = succeeded(Direction.UPGRADE, "", "r" + i);
      status.getHistory().add(old);
    }
    Run run = new Run();
    run.setId("run-4");
    run.setJob("orders-run-4");
    run.setDirection(Direction.UPGRADE);
    run.setImage(IMAGE_2);
    run.setRequestedImage(IMAGE_2);
    run.setToRevision("head");
    run.setFromRevision("r0");
    HistoryEntry entry = RunRecorder.finish(status, run,
        new RunState.Succeeded(ResultParser.parse("{\"fromRevision\":\"r0\",\"toRevision\":\"r9\",\"applied\":[{\"revision\":\"r9\"}]}")), 2, Instant.now());
    assertThat(entry.getToRevision()).isEqualTo("r9");
    assertThat(status.getCurrentRevision()).as("the revision reached, not the word head").isEqualTo("r9");
    assertThat(status.getAppliedTargetRevision()).isEqualTo("head");
    assertThat(status.getHistory()).hasSize(2).first().isSameAs(entry);
    assertThat(status.getActiveRun()).isNull();
  }

  @Test
  void specValidatorNamesTheFieldAndTheFix() {
    DatabaseMigration dbm = withUid(migration("shop", "orders", IMAGE_1, "3", "ok", "Bad_Name"));
    dbm.getSpec().setEnv(new ArrayList<>(List.of(new EnvVar("SCHEMAGATE_DIRECTION", "x", null))));
    assertThat(SpecValidator.problems(dbm.getSpec())).containsExactly(
        "spec.gate.deployments[1] \"Bad_Name\" is not a valid Deployment name: use lower-case letters, digits, '-' and '.'",
        "spec.env SCHEMAGATE_DIRECTION: names starting with SCHEMAGATE_ are set by the operator; rename it");
  }
}
