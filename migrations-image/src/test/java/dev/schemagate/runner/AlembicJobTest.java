package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Alembic Job on a live database, as the operator runs it: the Alembic kit
 * (scripts/alembic-kit, built into target/alembic-kit as the init container puts it into the pod),
 * its command run in the example's Alembic project (env.py through the kit's schemagate_alembic),
 * with the Python of .tools/python (scripts/tools makes it from the example's requirements.txt), on
 * a real PostgreSQL.
 */
class AlembicJobTest {
  static final Path HOME = Path.of("..").toAbsolutePath().normalize();
  static final Path EXAMPLE = HOME.resolve("examples/fastapi-alembic");
  static final Path KIT = Path.of("target/alembic-kit").toAbsolutePath();
  static final Path COMMAND = KIT.resolve("bin/schemagate-alembic");
  static final Path PYTHON_BIN = HOME.resolve(".tools/python/bin");
  @TempDir Path work;
  Path image;
  String database;

  record Outcome(int exitCode, String log, String result, long millis) {}

  /** The Pythons an image may have besides the right one (see {@link #pythons()}). */
  @TempDir static Path pythons;

  /** A virtual environment with nothing installed: a Python without Alembic. */
  static Path bare;

  /** One with Alembic and SQLAlchemy but not greenlet, which env.py's SQLAlchemy asyncio needs. */
  static Path partial;

  /** The machine's commands without any Python: an image whose only Python is the one added. */
  static Path noPython;

  @BeforeAll
  static void kit() throws Exception {
    Process build =
        new ProcessBuilder("bash", HOME.resolve("scripts/alembic-kit").toString(), KIT.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(build.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(build.exitValue()).as(out).isZero();
  }

  /** A Python process in the project, with the kit on its path as the Job's alembic has it. */
  static ProcessBuilder kitPython(Path project, String program) {
    ProcessBuilder builder =
        new ProcessBuilder(PYTHON_BIN.resolve("python").toString(), "-c", program)
            .directory(project.toFile());
    builder.environment().put("PYTHONPATH", KIT.resolve("python").toString());
    return builder;
  }

  @BeforeAll
  static void pythons() throws Exception {
    assertThat(PYTHON_BIN.resolve("alembic"))
        .as("the example's virtual environment: run bash scripts/tools")
        .exists();
    bare = venv(pythons.resolve("bare"));
    partial = venv(pythons.resolve("partial"));
    Path sitePackages = sitePackages(PYTHON_BIN.getParent());
    Path some = Files.createDirectories(pythons.resolve("alembic-without-greenlet"));
    for (String p :
        List.of("alembic", "sqlalchemy", "mako", "markupsafe", "typing_extensions.py")) {
      Files.createSymbolicLink(some.resolve(p), sitePackages.resolve(p));
    }
    Files.writeString(sitePackages(partial).resolve("some.pth"), some + "\n");
    assertThat(python(partial.resolve("bin/python3"), "import alembic.config, sqlalchemy"))
        .as("the partial environment imports Alembic")
        .isZero();
    assertThat(python(partial.resolve("bin/python3"), "import greenlet")).isNotZero();
    noPython = Files.createDirectories(pythons.resolve("no-python"));
    try (Stream<Path> commands = Files.list(Path.of("/usr/bin"))) {
      for (Path c : commands.toList()) {
        if (!c.getFileName().toString().startsWith("python")) {
          Files.createSymbolicLink(noPython.resolve(c.getFileName()), c);
        }
      }
    }
  }

  static Path venv(Path dir) throws Exception {
    Process p =
        new ProcessBuilder(
                PYTHON_BIN.resolve("python").toString(),
                "-m",
                "venv",
                "--without-pip",
                dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return dir;
  }

  static Path sitePackages(Path venv) throws IOException {
    try (Stream<Path> lib = Files.list(venv.resolve("lib"))) {
      return lib.filter(d -> d.getFileName().toString().startsWith("python"))
          .findFirst()
          .orElseThrow()
          .resolve("site-packages");
    }
  }

  static int python(Path python, String program) throws Exception {
    Process p =
        new ProcessBuilder(python.toString(), "-c", program).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  /** An executable script of these lines. */
  static Path script(Path file, String... lines) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, String.join("\n", lines) + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  /** A Python that is a shell script around the virtual environment's (as pyenv's shims are). */
  Path pythonScript(String dir, String name) throws IOException {
    return script(
        work.resolve(dir).resolve(name),
        "#!/bin/sh",
        "exec " + PYTHON_BIN.resolve("python") + " \"$@\"");
  }

  /** An alembic whose Python the wrapper cannot see: a shim that execs it through a variable. */
  Path hiddenShim() throws IOException {
    return script(
        work.resolve("shim/alembic"),
        "#!/bin/sh",
        "PY=" + PYTHON_BIN.resolve("python"),
        "exec \"$PY\" -m alembic \"$@\"");
  }

  @BeforeEach
  void setUp() throws IOException {
    database = Postgres.newDatabase();
    image = work.resolve("image");
    // the example as of its release 1.3: revisions 0001 to 0003 (the tests add their own 0004)
    try (Stream<Path> walk = Files.walk(EXAMPLE)) {
      for (Path f : walk.toList()) {
        if (f.toString().contains("__pycache__") || laterThan13(f)) {
          continue;
        }
        Path target = image.resolve(EXAMPLE.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else {
          Files.copy(f, target);
        }
      }
    }
  }

  /** A revision of the example after 0003 (the rename of app_user.name, 0004 to 0006). */
  static boolean laterThan13(Path f) {
    String name = f.getFileName().toString();
    return f.getParent().endsWith("alembic/versions")
        && name.endsWith(".py")
        && name.compareTo("0004") >= 0;
  }

  Outcome job(String target, Map<String, String> extra) throws Exception {
    Path result = Files.createTempFile(work, "result", ".json");
    Path log = Files.createTempFile(work, "log", ".txt");
    long start = System.nanoTime();
    Process p = start(target, extra, result, log);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "the Alembic Job did not finish in 120 s: " + Files.readString(log));
    }
    return new Outcome(
        p.exitValue(),
        Files.readString(log),
        Files.readString(result, StandardCharsets.UTF_8),
        (System.nanoTime() - start) / 1_000_000);
  }

  /** The Alembic Job's container, started: the wrapper, as the Job's command runs it. */
  Process start(String target, Map<String, String> extra, Path result, Path log)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder("/bin/sh", COMMAND.toString())
            .directory(image.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.clear();
    env.put("PATH", PYTHON_BIN + ":/usr/bin:/bin");
    env.put("TMPDIR", Files.createTempDirectory(work, "tmp").toString());
    env.put("PYTHONDONTWRITEBYTECODE", "1");
    env.put(
        "DATABASE_URL",
        "postgresql+asyncpg://postgres:pw@127.0.0.1:" + Postgres.port() + "/" + database);
    env.put("SCHEMAGATE_TARGET_REVISION", target);
    env.put("SCHEMAGATE_DIRECTION", "upgrade");
    env.put("SCHEMAGATE_RESULT_FILE", result.toString());
    env.putAll(extra);
    return builder.start();
  }

  /**
   * Issue 26, item 8: the Job's pod killed (SIGKILL: an eviction past its grace period, a node
   * lost) while a revision runs, after others committed. Each revision commits with its
   * alembic_version row (transaction_per_migration), so alembic_version names the last revision
   * whose schema is there, and the revision cut short left nothing; the next run applies it.
   */
  @Test
  void aJobKilledBetweenRevisionsLeavesAlembicVersionMatchingTheSchema() throws Exception {
    assertThat(job("0001", Map.of()).exitCode()).isZero();
    revision(
        "0004_slow_table.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.execute('CREATE TABLE cut_short (id bigserial PRIMARY KEY)')",
            "    op.execute('SELECT pg_sleep(3)')",
            "def downgrade():",
            "    op.execute('DROP TABLE cut_short')",
            ""));
    Path log = Files.createTempFile(work, "log", ".txt");
    Process killed = start("head", Map.of(), Files.createTempFile(work, "result", ".json"), log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (rows("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'")
        .equals(List.of("0"))) {
      assertThat(System.nanoTime())
          .as("revision 0004 started: " + Files.readString(log))
          .isLessThan(deadline);
      Thread.sleep(20);
    }
    killed.descendants().forEach(ProcessHandle::destroyForcibly);
    killed.destroyForcibly();
    assertThat(killed.waitFor(10, TimeUnit.SECONDS)).isTrue();
    // the server ends the dead client's transaction once its statement ends
    while (!rows("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'")
        .equals(List.of("0"))) {
      Thread.sleep(50);
    }
    Thread.sleep(200);

    assertThat(rows("SELECT version_num FROM alembic_version"))
        .as("the last revision that committed")
        .containsExactly("0003");
    assertThat(
            rows(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'app_user'"
                    + " AND column_name = 'display_name'"))
        .as("0003's schema is there")
        .containsExactly("1");
    assertThat(
            rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'cut_short'"))
        .as("0004 left nothing")
        .containsExactly("0");

    Outcome again = job("head", Map.of());
    assertThat(again.exitCode()).as(again.log()).isZero();
    assertThat(again.result()).contains("\"fromRevision\":\"0003\"", "\"toRevision\":\"0004\"");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0004");
  }

  /**
   * Issue 29: a revision that says schemagate_kind = "contract" is held back by an upgrade with
   * SCHEMAGATE_CONTRACT=hold (the expand part: everything before it), reported as held with its
   * kind; the contract part (SCHEMAGATE_CONTRACT=apply) runs it, and every applied revision says
   * its kind.
   */
  @Test
  void aContractRevisionIsHeldUntilTheContractPartAndEveryRevisionSaysItsKind() throws Exception {
    revision(
        "0004_drop_display_name.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "schemagate_kind = 'contract'",
            "def upgrade():",
            "    op.drop_column('app_user', 'display_name')",
            "def downgrade():",
            "    import sqlalchemy as sa",
            "    op.add_column('app_user', sa.Column('display_name', sa.String(), nullable=True))",
            ""));
    Outcome expand = job("head", Map.of("SCHEMAGATE_CONTRACT", "hold"));
    assertThat(expand.exitCode()).as(expand.log()).isZero();
    JsonNode result = json(expand);
    assertThat(result.path("toRevision").asText()).isEqualTo("0003");
    assertThat(result.path("applied").findValuesAsText("kind"))
        .containsExactly("expand", "expand", "expand");
    assertThat(result.path("held").findValuesAsText("revision")).containsExactly("0004");
    assertThat(result.path("held").findValuesAsText("kind")).containsExactly("contract");
    assertThat(expand.log())
        .contains("holding back 1 migration(s) from the contract migration 0004");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0003");

    Outcome nothingBefore = job("head", Map.of("SCHEMAGATE_CONTRACT", "hold"));
    assertThat(nothingBefore.exitCode()).as(nothingBefore.log()).isZero();
    assertThat(json(nothingBefore).path("toRevision").asText()).isEqualTo("0003");
    assertThat(json(nothingBefore).path("held").findValuesAsText("revision"))
        .containsExactly("0004");

    Outcome contract = job("head", Map.of("SCHEMAGATE_CONTRACT", "apply"));
    assertThat(contract.exitCode()).as(contract.log()).isZero();
    assertThat(json(contract).path("applied").findValuesAsText("kind")).containsExactly("contract");
    assertThat(json(contract).path("held").isMissingNode()).isTrue();
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0004");
  }

  /**
   * Issue 29: a database whose schema holds the tables but no alembic_version is refused before
   * anything changes (BaselineRequired, exit 13) without a baseline, and adopted at
   * SCHEMAGATE_BASELINE with one: stamped there, then only the later revisions run.
   */
  @Test
  void aDatabaseWithoutItsVersionTableNeedsABaselineAndIsAdoptedAtIt() throws Exception {
    assertThat(job("0002", Map.of()).exitCode()).isZero();
    try (Connection c = Postgres.connect(database);
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE alembic_version");
    }
    List<String> before = everything();

    Outcome refused = job("head", Map.of());
    assertThat(refused.exitCode()).as(refused.log()).isEqualTo(13);
    JsonNode result = json(refused);
    assertThat(result.path("error").asText()).isEqualTo("BaselineRequired");
    assertThat(result.path("message").asText())
        .contains("table app_user", "but no version table public.alembic_version")
        .contains("spec.baseline.revision", "Nothing was changed");
    assertThat(everything()).as("nothing changed").isEqualTo(before);

    Outcome adopted = job("head", Map.of("SCHEMAGATE_BASELINE", "0002"));
    assertThat(adopted.exitCode()).as(adopted.log()).isZero();
    result = json(adopted);
    assertThat(result.path("baseline").asText()).isEqualTo("0002");
    assertThat(result.path("fromRevision").asText()).isEqualTo("0002");
    assertThat(result.path("applied").findValuesAsText("revision")).containsExactly("0003");
    assertThat(adopted.log()).contains("adopted the database: stamped 0002 as the baseline");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0003");
  }

  List<String> rows(String sql) throws SQLException {
    return Postgres.rows(database, sql);
  }

  static JsonNode json(Outcome outcome) throws IOException {
    assertThat(outcome.result().getBytes(StandardCharsets.UTF_8).length)
        .as(outcome.result())
        .isLessThanOrEqualTo(4096);
    return new ObjectMapper().readTree(outcome.result());
  }

  Outcome check() throws Exception {
    return job("head", Map.of("SCHEMAGATE_DIRECTION", "check"));
  }

  /** The runner's fingerprint of the same database (its query, in Java, on its own connection). */
  SchemaFingerprint runnerFingerprint() throws SQLException {
    try (Connection c = Postgres.connect(database)) {
      return SchemaFingerprint.read(c, "public", "alembic_version");
    }
  }

  static void assertSameSchema(JsonNode schema, SchemaFingerprint runner) {
    assertThat(schema.path("fingerprint").asText()).isEqualTo(runner.fingerprint());
    Map<String, String> tables = new java.util.LinkedHashMap<>();
    schema.path("tables").properties().forEach(e -> tables.put(e.getKey(), e.getValue().asText()));
    assertThat(tables).isEqualTo(runner.tables());
  }

  /** Everything a check could change: the catalog of public and the version table. */
  List<String> everything() throws SQLException {
    List<String> all = new ArrayList<>();
    all.addAll(
        rows(
            "SELECT c.relname || ' ' || c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'public' ORDER BY 1"));
    all.addAll(
        rows(
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable"
                + " FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1"));
    if (!rows("SELECT to_regclass('public.alembic_version')::text").contains(null)) {
      all.addAll(rows("SELECT version_num FROM alembic_version"));
    }
    return all;
  }

  /**
   * The Alembic wrapper's fingerprint (after a run, and from a check) is the runner's, table by
   * table, on the same schema; a check changes nothing, not even on an empty database.
   */
  @Test
  void aRunAndACheckReportTheSameFingerprintAsTheRunnerAndTheCheckChangesNothing()
      throws Exception {
    Outcome fresh = check();
    assertThat(fresh.exitCode()).as(fresh.log()).isZero();
    assertThat(json(fresh).path("fromRevision").asText()).isEmpty();
    assertThat(json(fresh).path("schema").path("fingerprint").asText())
        .isEqualTo("e3b0c44298fc1c14");
    assertThat(rows("SELECT to_regclass('public.alembic_version')::text"))
        .as("no version table made")
        .containsExactly((String) null);

    Outcome run = job("head", Map.of());
    assertThat(run.exitCode()).as(run.log()).isZero();
    assertThat(json(run).path("python").asText())
        .as("the Python of the alembic script's #! line")
        .startsWith(PYTHON_BIN.resolve("python").toString());
    JsonNode schema = json(run).path("schema");
    assertThat(schema.path("tables").has("public.app_user")).isTrue();
    assertThat(schema.path("tables").has("public.alembic_version")).isFalse();
    assertSameSchema(schema, runnerFingerprint());

    List<String> before = everything();
    Outcome checked = check();
    assertThat(checked.exitCode()).as(checked.log()).isZero();
    JsonNode result = json(checked);
    assertThat(result.path("tool").asText()).isEqualTo("alembic");
    assertThat(result.path("direction").asText()).isEqualTo("check");
    assertThat(result.path("fromRevision").asText()).isEqualTo("0003");
    assertThat(result.path("toRevision").asText()).isEqualTo("0003");
    assertThat(result.path("applied").size()).isZero();
    assertThat(result.path("schema")).isEqualTo(schema);
    assertThat(checked.log()).contains("nothing was changed");
    assertThat(everything()).isEqualTo(before);

    // a change by hand, with names the search path would leave unqualified (a type, a sequence)
    execute("CREATE TYPE mood AS ENUM ('fine', 'grumpy')");
    execute("ALTER TABLE app_user ADD COLUMN mood mood DEFAULT 'fine'");
    execute("CREATE TABLE audit (id serial PRIMARY KEY, user_id int REFERENCES app_user (id))");
    JsonNode drifted = json(check()).path("schema");
    assertSameSchema(drifted, runnerFingerprint());
    assertThat(drifted.path("tables").path("public.app_user").asText())
        .isNotEqualTo(schema.path("tables").path("public.app_user").asText());

    execute("DROP TABLE audit");
    Outcome down = job("0001", Map.of("SCHEMAGATE_DIRECTION", "downgrade"));
    assertThat(down.exitCode()).as(down.log()).isZero();
    assertSameSchema(json(down).path("schema"), runnerFingerprint());
  }

  /**
   * A run holds the migration lock of schemagate_alembic for longer than a check could wait: the
   * check ends while the lock is still held, with exit code 11 and no schema.
   */
  @Test
  void aCheckWhileARunHoldsTheLockExits11WithoutWaiting() throws Exception {
    assertThat(job("head", Map.of()).exitCode()).isZero();
    try (Connection run = Postgres.connect(database);
        Statement s = run.createStatement()) {
      s.execute("SET application_name = 'alembic-run shop/orders 1a2b3c'");
      s.execute("SELECT pg_advisory_lock(" + RunLock.key("public", "alembic_version") + ")");
      Outcome checked =
          job("head", Map.of("SCHEMAGATE_DIRECTION", "check", "SCHEMAGATE_RUN_LOCK_WAIT", "10m"));
      assertThat(checked.exitCode()).as(checked.log()).isEqualTo(11);
      JsonNode result = json(checked);
      assertThat(result.path("direction").asText()).isEqualTo("check");
      assertThat(result.path("skipped").asText()).isEqualTo("MigrationRunning");
      assertThat(result.has("schema")).isFalse();
      assertThat(result.path("fromRevision").asText()).isEqualTo("0003");
      assertThat(result.path("message").asText())
          .contains(
              "a run holds the migration lock of public.alembic_version",
              "alembic-run shop/orders 1a2b3c",
              "the check did not wait");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")) {
        rs.next();
        assertThat(rs.getInt(1)).as("the run still holds its lock").isEqualTo(1);
      }
    }
  }

  /** Many tables: the run's and the check's results keep to 4096 bytes and keep the fingerprint. */
  @Test
  void aSchemaOfManyTablesKeepsTheResultWithin4096Bytes() throws Exception {
    revision(
        "0004_many_tables.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    for i in range(300):",
            "        op.execute('CREATE TABLE a_table_with_a_rather_long_name_number_%d"
                + " (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE)' % i)",
            "def downgrade():",
            "    pass",
            ""));
    Outcome run = job("head", Map.of());
    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode schema = json(run).path("schema");
    assertThat(schema.path("fingerprint").asText()).isEqualTo(runnerFingerprint().fingerprint());
    assertThat(schema.path("tablesOmitted").asBoolean()).isTrue();
    assertThat(schema.has("tables")).isFalse();
    assertThat(json(run).path("applied").size()).as("the applied list is kept whole").isEqualTo(4);
    Outcome checked = check();
    assertThat(checked.exitCode()).as(checked.log()).isZero();
    assertThat(json(checked).path("schema")).isEqualTo(schema);
  }

  void execute(String sql) throws SQLException {
    Postgres.execute(database, sql);
  }

  void revision(String file, String body) throws IOException {
    Files.writeString(image.resolve("alembic/versions").resolve(file), body);
  }

  @Test
  void
      aLongTransactionIsWaitedOutTheAppNeverWaitsLongerThanTheLockTimeoutAndTheRevisionReachedIsReported()
          throws Exception {
    Outcome first = job("0002", Map.of());
    assertThat(first.exitCode()).as(first.log()).isZero();
    try (Connection c = Postgres.connect(database);
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO app_user (name) SELECT 'user ' || g FROM generate_series(1, 1000) g");
    }
    try (AppLoad app =
        new AppLoad(
            database, "SELECT name FROM app_user WHERE id = 1 + (random() * 999)::int", 100, 4)) {
      Thread.sleep(500);
      LongTransaction report =
          new LongTransaction(database, "app_user", "nightly-report")
              .endAfterTheNextSessionHeldItFor(database, 3_000);
      Outcome run = job("head", Map.of("SCHEMAGATE_LOCK_TIMEOUT", "1s"));
      Thread.sleep(300);
      List<Double> latencies = app.latencies();

      assertThat(run.exitCode()).as(run.log()).isZero();
      assertThat(run.log())
          .contains(
              "revision 0003 waits for AccessExclusiveLock on app_user, held by pid " + report.pid,
              "application \"nightly-report\"",
              "gave up on a lock after 50 ms (attempt 1 of 11), rolled back",
              "retrying revision 0003 when pid " + report.pid + " ends its transaction");
      assertThat(run.result())
          .contains("\"fromRevision\":\"0002\"", "\"toRevision\":\"0003\"")
          // one retry once the report ended; on a busy machine an app query may cost one more
          .containsPattern(
              "\\{\"revision\":\"0003\",\"description\":\"add display_name\",\"lockRetries\":[1-9],"
                  + "\"kind\":\"expand\"\\}")
          .doesNotContain("\"head\"");
      assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0003");
      assertThat(latencies).hasSizeGreaterThan(300).doesNotContain(-1.0);
      assertThat(AppLoad.max(latencies))
          .as("no query of the app waited as long as the lock timeout")
          .isLessThan(1_000);
    }
  }

  @Test
  void whenTheRetriesRunOutItIsLockTimeout() throws Exception {
    assertThat(job("0002", Map.of()).exitCode()).isZero();
    try (LongTransaction report = new LongTransaction(database, "app_user", "stuck-report")) {
      Outcome run = job("head", Map.of("SCHEMAGATE_LOCK_RETRIES", "0"));
      assertThat(run.exitCode()).as(run.log()).isEqualTo(7);
      assertThat(run.result())
          .contains(
              "\"error\":\"LockTimeout\"",
              "\"failedRevision\":\"0003\"",
              "\"toRevision\":\"0002\"",
              "its 0 retries (SCHEMAGATE_LOCK_RETRIES) are used up",
              "stuck-report",
              "SELECT pg_terminate_backend(" + report.pid + ")")
          .as("a failed run reports no schema")
          .doesNotContain("\"schema\"");
    }
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0002");
  }

  @Test
  void thePlanListsTheRevisionsAndTheirRedactedSqlAndOnlyTheApprovedPlanRuns() throws Exception {
    assertThat(job("0001", Map.of()).exitCode()).isZero();
    revision(
        "0004_reporting_role.py",
        String.join(
            "\n",
            "\"\"\"reporting role\"\"\"",
            "from alembic import op",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.execute(\"CREATE ROLE reporter_plan LOGIN PASSWORD 'Tr0ub4dor&3-alembic'\")",
            "def downgrade():",
            "    op.execute('DROP ROLE reporter_plan')",
            ""));
    Map<String, String> plan =
        Map.of("SCHEMAGATE_DIRECTION", "plan", "SCHEMAGATE_PLAN_INPUTS", "image=x:1 target=head");
    Outcome made = job("head", plan);
    assertThat(made.exitCode()).as(made.log()).isZero();
    assertThat(made.result().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
    assertThat(made.result())
        .contains(
            "\"direction\":\"plan\"",
            "\"fromRevision\":\"0001\"",
            "\"toRevision\":\"0004\"",
            "{\"revision\":\"0002\",\"description\":\"add email\",\"kind\":\"expand\"}",
            "{\"revision\":\"0004\",\"description\":\"reporting role\",\"kind\":\"expand\"}",
            "ALTER TABLE app_user ADD COLUMN email TEXT;",
            "CREATE ROLE reporter_plan LOGIN PASSWORD");
    assertThat(made.result()).doesNotContain("\"revision\":\"0001\"");
    assertThat(made.log() + made.result()).doesNotContain("Tr0ub4dor");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0001");
    assertThat(rows("SELECT rolname FROM pg_roles WHERE rolname = 'reporter_plan'")).isEmpty();
    String hash = made.result().replaceAll(".*\"hash\":\"([0-9a-f]{16})\".*", "$1");
    assertThat(hash).matches("[0-9a-f]{16}");
    assertThat(job("head", plan).result()).contains("\"hash\":\"" + hash + "\"");

    // the database moved on after the plan was approved: the approval runs nothing
    assertThat(job("0002", Map.of()).exitCode()).isZero();
    Outcome stale =
        job(
            "head",
            Map.of(
                "SCHEMAGATE_APPROVED_PLAN",
                hash,
                "SCHEMAGATE_PLAN_INPUTS",
                "image=x:1 target=head"));
    assertThat(stale.exitCode()).as(stale.log()).isEqualTo(10);
    assertThat(stale.result()).contains("\"error\":\"PlanChanged\"", "nothing was applied");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0002");

    String now = job("head", plan).result().replaceAll(".*\"hash\":\"([0-9a-f]{16})\".*", "$1");
    Outcome approved =
        job(
            "head",
            Map.of(
                "SCHEMAGATE_APPROVED_PLAN",
                now,
                "SCHEMAGATE_PLAN_INPUTS",
                "image=x:1 target=head"));
    assertThat(approved.exitCode()).as(approved.log()).isZero();
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0004");
    assertThat(approved.log()).doesNotContain("Tr0ub4dor");
  }

  @Test
  void twoJobsAtOnceMigrateOneAfterTheOtherAndEachRevisionAppliesOnce() throws Exception {
    revision(
        "0004_slow_backfill.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.execute('SELECT pg_sleep(3)')",
            "def downgrade():",
            "    pass",
            ""));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Outcome> a = pool.submit(() -> job("head", Map.of()));
      Thread.sleep(200);
      Future<Outcome> b = pool.submit(() -> job("head", Map.of()));
      Outcome one = a.get();
      Outcome two = b.get();
      assertThat(one.exitCode()).as(one.log()).isZero();
      assertThat(two.exitCode()).as(two.log()).isZero();
      assertThat(one.log() + two.log())
          .contains("another run holds the migration lock of public.alembic_version: pid");
      assertThat(RunnerFixture.count(one.result()) + RunnerFixture.count(two.result()))
          .as("each revision applied once")
          .isEqualTo(4);
      assertThat(one.result()).contains("\"toRevision\":\"0004\"");
      assertThat(two.result()).contains("\"toRevision\":\"0004\"");
    } finally {
      pool.shutdownNow();
    }
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0004");
  }

  @Test
  void aSessionLeftHoldingTheLockFailsClearlyWithinTheBound() throws Exception {
    long key =
        Long.parseLong(
            new String(
                    kitPython(
                            image,
                            "import schemagate_alembic; print(schemagate_alembic.lock_key('public', 'alembic_version'))")
                        .start()
                        .getInputStream()
                        .readAllBytes())
                .strip());
    assertThat(key)
        .as("the same key rule as the runner's")
        .isEqualTo(RunLock.key("public", "alembic_version"));
    try (Connection leftBehind = Postgres.connect(database);
        Statement s = leftBehind.createStatement()) {
      s.execute("SET application_name = 'killed-migration'");
      s.execute("SELECT pg_advisory_lock(" + key + ")");
      Outcome run = job("head", Map.of("SCHEMAGATE_RUN_LOCK_WAIT", "2s"));
      assertThat(run.exitCode()).as(run.log()).isEqualTo(6);
      assertThat(run.millis()).isLessThan(30_000);
      assertThat(run.result())
          .contains(
              "\"error\":\"MigrationLockHeld\"",
              "killed-migration",
              "nothing was run",
              "SELECT pg_terminate_backend(");
    }
    assertThat(
            rows(
                "SELECT count(*)::text FROM information_schema.tables WHERE table_name IN ('app_user', 'alembic_version')"))
        .containsExactly("0");
  }

  @Test
  void twoHeadsAreRefusedBeforeAnyChange() throws Exception {
    revision(
        "0003b_other_branch.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0003b'",
            "down_revision = '0002'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.execute('CREATE TABLE other_branch (id int)')",
            "def downgrade():",
            "    op.execute('DROP TABLE other_branch')",
            ""));
    for (String target : List.of("head", "0003")) {
      Outcome run = job(target, Map.of());
      assertThat(run.exitCode()).as(run.log()).isEqualTo(9);
      assertThat(run.result())
          .contains(
              "\"error\":\"MultipleHeads\"",
              "has 2 heads (",
              "0003b",
              "nothing was run",
              "alembic merge");
    }
    assertThat(
            rows(
                "SELECT count(*)::text FROM information_schema.tables WHERE table_schema = 'public'"))
        .containsExactly("0");
  }

  /**
   * A failing revision whose SQL holds the database password and whose bound parameters hold a
   * token of the Secret: the log and the result hold neither (SQLAlchemy's [SQL: ...] and
   * [parameters: ...] included), and the result names the real error, not SQLAlchemy's footer.
   */
  @Test
  void whatTheJobPrintsAndReportsIsRedactedAndTheErrorIsTheRealOne() throws Exception {
    String sentinel = "Sentinel-pw@" + database + "/x y";
    String token = "tok-" + database;
    String url =
        "postgresql+asyncpg://postgres:"
            + java.net.URLEncoder.encode(sentinel, StandardCharsets.UTF_8)
            + "@127.0.0.1:"
            + Postgres.port()
            + "/"
            + database;
    revision(
        "0004_leaky.py",
        String.join(
            "\n",
            "import os",
            "from alembic import op",
            "from sqlalchemy import text",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    print('connecting with ' + os.environ['DATABASE_URL'])",
            "    op.get_bind().execute(text('SELECT CAST(:t AS int)'), {'t': os.environ['API_TOKEN']})",
            "def downgrade():",
            "    pass",
            ""));
    revision(
        "0005_password.py",
        String.join(
            "\n",
            "from alembic import op",
            "revision = '0005'",
            "down_revision = '0004'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    op.execute(\"ALTER ROLE postgres PASSWORD '" + sentinel + "' oops\")",
            "def downgrade():",
            "    pass",
            ""));
    Outcome tokens = job("head", Map.of("DATABASE_URL", url, "API_TOKEN", token));
    assertThat(tokens.exitCode()).as(tokens.log()).isNotZero();
    assertThat(tokens.log())
        .as("the traceback is printed, redacted")
        .contains("[parameters: *****]", "connecting with postgresql+asyncpg://postgres:*****@");
    assertThat(tokens.result())
        .contains("\"failedRevision\":\"0004\"", "DBAPIError", "invalid input for query argument")
        .doesNotContain("Background on this error");
    for (String secret : List.of(sentinel, token)) {
      for (String text : List.of(tokens.log(), tokens.result())) {
        assertThat(dev.schemagate.redact.Redactor.contains(text, secret))
            .as("%s in %s", secret, text)
            .isFalse();
      }
    }

    revision(
        "0004_leaky.py",
        String.join(
            "\n",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    pass",
            "def downgrade():",
            "    pass",
            ""));
    Outcome password = job("head", Map.of("DATABASE_URL", url));
    assertThat(password.exitCode()).as(password.log()).isNotZero();
    assertThat(password.result())
        .contains(
            "\"failedRevision\":\"0005\"",
            "unrecognized role option",
            "[SQL: ALTER ROLE postgres PASSWORD '*****' oops]")
        .doesNotContain("Background on this error");
    for (String text : List.of(password.log(), password.result())) {
      assertThat(dev.schemagate.redact.Redactor.contains(text, sentinel)).as(text).isFalse();
    }
  }

  /** Many revisions: the result keeps to 4096 bytes, as the runner's, and says what it left out. */
  @Test
  void theResultIsCappedAt4096Bytes() throws Exception {
    String previous = "0003";
    for (int i = 4; i < 64; i++) {
      String id = String.format("%04d", i);
      revision(
          id + "_step.py",
          String.join(
              "\n",
              "\"\"\"step "
                  + i
                  + " with a description long enough to fill the result "
                  + "x".repeat(60)
                  + "\"\"\"",
              "revision = '" + id + "'",
              "down_revision = '" + previous + "'",
              "branch_labels = None",
              "depends_on = None",
              "def upgrade():",
              "    pass",
              "def downgrade():",
              "    pass",
              ""));
      previous = id;
    }
    Outcome run = job("head", Map.of());
    assertThat(run.exitCode()).as(run.log()).isZero();
    assertThat(run.result().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(4096);
    assertThat(run.result()).contains("\"toRevision\":\"0063\"", "\"omitted\":");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0063");
  }

  /** The run recorded the schema it left (the runner's fingerprint), and a check reads the same. */
  void assertRecordedThenChecked(Outcome run, Map<String, String> env) throws Exception {
    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode schema = json(run).path("schema");
    assertThat(schema.has("fingerprint"))
        .as("the run recorded the schema it left: %s%s", run.result(), run.log())
        .isTrue();
    assertSameSchema(schema, runnerFingerprint());
    Map<String, String> check = new HashMap<>(env);
    check.put("SCHEMAGATE_DIRECTION", "check");
    Outcome checked = job("head", check);
    assertThat(checked.exitCode()).as(checked.log()).isZero();
    assertThat(json(checked).path("schema")).isEqualTo(schema);
    assertThat(json(checked).path("python")).isEqualTo(json(run).path("python"));
  }

  static String path(Path... dirs) {
    return String.join(":", Stream.of(dirs).map(Path::toString).toList()) + ":/usr/bin:/bin";
  }

  /**
   * The image's alembic is a shell script, the first python3 on PATH has no Alembic, and the
   * project's alembic/ folder is where {@code import alembic} would land in that one: the wrapper
   * runs in the Python the script execs (a shim, or the form pip writes for an interpreter whose
   * path is too long for a #! line).
   */
  @ParameterizedTest
  @ValueSource(strings = {"shim", "pip"})
  void anAlembicThatIsAShellScriptRunsTheWrapperInThePythonItExecs(String form) throws Exception {
    Path python = PYTHON_BIN.resolve("python");
    Path alembic =
        form.equals("shim")
            ? script(
                work.resolve("bin/alembic"), "#!/bin/sh", "exec " + python + " -m alembic \"$@\"")
            : script(
                work.resolve("bin/alembic"),
                "#!/bin/sh",
                "'''exec' \"" + python + "\" \"$0\" \"$@\"",
                "' '''",
                "import sys",
                "from alembic.config import main",
                "sys.exit(main())");
    Map<String, String> env = Map.of("PATH", path(alembic.getParent(), bare.resolve("bin")));
    Outcome run = job("head", env);
    assertRecordedThenChecked(run, env);
    assertThat(json(run).path("python").asText()).isEqualTo(python.toString());
    assertThat(run.log())
        .contains(
            "INFO  [schemagate] python: " + python + " (the one " + alembic + " runs): Python 3.");
  }

  /** An image whose only Python is {@code python}: no python3 anywhere on PATH. */
  @Test
  void anImageWithPythonAndNoPython3RunsTheWrapperInIt() throws Exception {
    Path python = pythonScript("only", "python");
    script(work.resolve("only/alembic"), "#!/bin/sh", "exec python -m alembic \"$@\"");
    assertThat(noPython.resolve("sh")).exists();
    assertThat(noPython.resolve("python3")).doesNotExist();
    Map<String, String> env = Map.of("PATH", python.getParent() + ":" + noPython);
    Outcome run = job("head", env);
    assertRecordedThenChecked(run, env);
    assertThat(json(run).path("python").asText()).isEqualTo(python.toString());
  }

  /**
   * The project's alembic/ folder is a package (it has an __init__.py): the wrapper's passes still
   * import the installed Alembic, not the folder.
   */
  @Test
  void theProjectsAlembicPackageDoesNotStandInForTheInstalledOne() throws Exception {
    Files.writeString(image.resolve("alembic/__init__.py"), "");
    Outcome run = job("head", Map.of());
    assertRecordedThenChecked(run, Map.of());
    assertThat(run.log()).doesNotContain("could not read the schema");
  }

  /**
   * The first python3 on PATH imports Alembic but not what env.py imports (SQLAlchemy's asyncio,
   * without greenlet): it is passed over, with the reason in the log, for the python after it.
   */
  @Test
  void aPythonWithAlembicButNotWhatEnvPyImportsIsPassedOver() throws Exception {
    Path alembic = hiddenShim();
    Path python3 =
        script(
            work.resolve("partial/python3"),
            "#!/bin/sh",
            "exec " + partial.resolve("bin/python3") + " \"$@\"");
    Path python = pythonScript("full", "python");
    Map<String, String> env =
        Map.of("PATH", path(alembic.getParent(), python3.getParent(), python.getParent()));
    Outcome run = job("head", env);
    assertRecordedThenChecked(run, env);
    assertThat(json(run).path("python").asText()).isEqualTo(python.toString());
    assertThat(run.log())
        .contains(
            "INFO  [schemagate] python: not "
                + python3
                + " (python3 on PATH): env.py imports what it cannot: sqlalchemy.ext.asyncio (",
            "greenlet");
  }

  /**
   * SCHEMAGATE_PYTHON (spec.env) is the Python used, where the wrapper could find none; set to one
   * without Alembic it is refused before anything runs, though another would have done.
   */
  @Test
  void schemagatePythonIsTheOneUsedAndTheOnlyOneAsked() throws Exception {
    Path alembic = hiddenShim();
    Path chosen = pythonScript("chosen", "python-with-alembic");
    Map<String, String> env =
        Map.of(
            "PATH", path(alembic.getParent(), bare.resolve("bin")),
            "SCHEMAGATE_PYTHON", chosen.toString());
    Outcome run = job("0002", env);
    assertRecordedThenChecked(run, env);
    assertThat(json(run).path("python").asText()).isEqualTo(chosen.toString());
    assertThat(run.log()).contains("INFO  [schemagate] python: " + chosen + " (SCHEMAGATE_PYTHON)");

    Path without = bare.resolve("bin/python3");
    Outcome refused = job("head", Map.of("SCHEMAGATE_PYTHON", without.toString()));
    assertThat(refused.exitCode()).as(refused.log()).isEqualTo(2);
    JsonNode result = json(refused);
    assertThat(result.path("error").asText()).isEqualTo("InvalidConfiguration");
    assertThat(result.path("message").asText())
        .contains(
            "SCHEMAGATE_PYTHON (spec.env) names a Python that cannot run alembic",
            without + " (SCHEMAGATE_PYTHON): No module named 'alembic'",
            "nothing was run");
    assertThat(rows("SELECT version_num FROM alembic_version")).containsExactly("0002");
  }

  /**
   * No Python the wrapper can find runs alembic: nothing runs, the result says which were asked and
   * why each does not fit (InvalidConfiguration, exit 2), for a run and for a check.
   */
  @Test
  void withNoPythonThatCanRunAlembicNothingRunsAndTheResultSaysWhy() throws Exception {
    Path alembic = hiddenShim();
    for (String direction : List.of("upgrade", "check")) {
      Outcome run =
          job(
              "head",
              Map.of(
                  "PATH",
                  path(alembic.getParent(), bare.resolve("bin")),
                  "SCHEMAGATE_DIRECTION",
                  direction));
      assertThat(run.exitCode()).as(run.log()).isEqualTo(2);
      JsonNode result = json(run);
      assertThat(result.path("direction").asText()).isEqualTo(direction);
      assertThat(result.path("error").asText()).isEqualTo("InvalidConfiguration");
      assertThat(result.path("message").asText())
          .contains(
              "no Python in the image can run alembic and what env.py imports: ",
              bare.resolve("bin/python3") + " (python3 on PATH): No module named 'alembic'",
              bare.resolve("bin/python") + " (python on PATH): No module named 'alembic'",
              "Set SCHEMAGATE_PYTHON in spec.env",
              "nothing was run");
      assertThat(result.has("schema")).isFalse();
      assertThat(result.has("python")).isFalse();
      assertThat(run.log())
          .contains("ERROR [schemagate] InvalidConfiguration: no Python in the image");
    }
    assertThat(rows("SELECT to_regclass('public.alembic_version')::text"))
        .as("nothing was run")
        .containsExactly((String) null);
  }

  /**
   * The kit's env.py helper on its own (a project that runs alembic without the operator's
   * wrapper): from run_migrations on, log records, stdout and stderr (a traceback) are redacted.
   */
  @Test
  void theHelperRedactsWhatItsProcessPrints() throws Exception {
    String program =
        String.join(
            "\n",
            "import logging, sys",
            "import schemagate_alembic",
            "logging.basicConfig(format='%(levelname)s %(message)s')",
            "schemagate_alembic.redact_output()",
            "logging.getLogger('alembic.x').warning('to %s', 'postgresql://app:helper-pw-1@db/x')",
            "print('token is tok-helper-2 and password=helper-pw-3')",
            "try:",
            "    raise ValueError('[SQL: ALTER ROLE app PASSWORD ' + chr(39) + 'helper-pw-4' + chr(39)"
                + " + ']')",
            "except ValueError:",
            "    logging.getLogger('alembic.x').exception('failed')",
            "raise RuntimeError('DATABASE_URL=postgresql://app:helper-pw-5@db/x')",
            "");
    ProcessBuilder builder = kitPython(image, program).redirectErrorStream(true);
    builder.environment().put("API_TOKEN", "tok-helper-2");
    Process p = builder.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(out)
        .contains(
            "WARNING to postgresql://app:*****@db/x",
            "token is ***** and password=*****",
            "[SQL: ALTER ROLE app PASSWORD '*****']",
            "RuntimeError: DATABASE_URL=postgresql://app:*****@db/x")
        .doesNotContain("helper-pw", "tok-helper");
  }
}
