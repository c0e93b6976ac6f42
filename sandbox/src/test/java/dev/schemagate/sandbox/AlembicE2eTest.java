package dev.schemagate.sandbox;

import static dev.schemagate.sandbox.E2e.eventually;
import static dev.schemagate.sandbox.E2e.spec;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The FastAPI + async Alembic example through the operator, with the Alembic, SQLAlchemy, asyncpg,
 * FastAPI and uvicorn pinned in its requirements.txt, from the virtual environment scripts/tools
 * makes (.tools/python).
 */
@ExtendWith(E2e.Reporter.class)
class AlembicE2eTest {
  static final Path EXAMPLE = E2e.HOME.resolve("examples/fastapi-alembic");
  static final String V12 = "registry.example.com/shop/orders-migrations:1.2.0";
  static final String V13 = "registry.example.com/shop/orders-migrations:1.3.0";
  static final String LEAKY = "registry.example.com/shop/orders-migrations:1.4.0-leaky";
  static final String APP13 = "registry.example.com/shop/orders-api:1.3.0";
  static final Path PYTHON = E2e.HOME.resolve(".tools/python/bin/python");
  static Path v13;
  E2e world;

  @BeforeAll
  static void images() throws Exception {
    Sandbox sandbox = E2e.sandbox();
    Path v12 = copy(sandbox.work.resolve("images/orders-1.2"), "0002");
    sandbox.pythonImage(V12, v12, shim(v12));
    v13 = copy(sandbox.work.resolve("images/orders-1.3"), "0003");
    sandbox.pythonImage(V13, v13, shim(v13));
    // 1.3 and a revision that prints the database URL, then fails on SQL that holds its password
    Path leaky = copy(sandbox.work.resolve("images/orders-1.4-leaky"), "0003");
    Files.writeString(
        leaky.resolve("alembic/versions/0004_leaky.py"),
        String.join(
            "\n",
            "import os",
            "from alembic import op",
            "from sqlalchemy.engine import make_url",
            "revision = '0004'",
            "down_revision = '0003'",
            "branch_labels = None",
            "depends_on = None",
            "def upgrade():",
            "    url = os.environ['DATABASE_URL']",
            "    print('migrating ' + url)",
            "    password = make_url(url).password",
            "    op.execute(\"ALTER ROLE postgres PASSWORD '\" + password + \"' oops\")",
            "def downgrade():",
            "    pass",
            ""));
    sandbox.pythonImage(LEAKY, leaky, shim(leaky));
  }

  /**
   * The environment of the example's images: their {@code alembic} is a shell shim that execs the
   * virtual environment's Python (as Poetry, pipx or a distribution's package may install it), and
   * the first python3 after it has no Alembic, so that no run depends on what a Python other than
   * the one the image's alembic runs has installed. On the real node the image's own: the shim in
   * the project's bin/, then Debian's python3 of the image's base, which carries only the standard
   * library; on the embedded sandbox, a virtual environment with nothing installed ({@link
   * #imagePath}).
   */
  static Map<String, String> shim(Path project) throws Exception {
    if (E2e.KIND != Sandbox.Kind.REAL) {
      return Map.of("PATH", imagePath(E2e.sandbox()));
    }
    Path bin = Files.createDirectories(project.resolve("bin"));
    Path alembic = bin.resolve("alembic");
    Files.writeString(alembic, "#!/bin/sh\nexec /opt/venv/bin/python -m alembic \"$@\"\n");
    Files.setPosixFilePermissions(alembic, PosixFilePermissions.fromString("rwxr-xr-x"));
    return Map.of("PATH", "/app/bin:/usr/bin:/bin");
  }

  /**
   * The PATH of the example's images: their {@code alembic} is a shell shim that execs the virtual
   * environment's Python (as Poetry, pipx or a distribution's package may install it), and the
   * first python3 after it has no Alembic (a virtual environment with nothing installed), so that
   * no run depends on what the machine's own Python has installed.
   */
  static synchronized String imagePath(Sandbox sandbox) throws Exception {
    Path bin = Files.createDirectories(sandbox.work.resolve("bin"));
    Path alembic = bin.resolve("alembic");
    Files.writeString(alembic, "#!/bin/sh\nexec " + PYTHON + " -m alembic \"$@\"\n");
    Files.setPosixFilePermissions(alembic, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path bare = sandbox.work.resolve("python-without-alembic");
    if (!Files.isExecutable(bare.resolve("bin/python3"))) {
      assertThat(python(PYTHON.toString(), "-m", "venv", "--without-pip", bare.toString()))
          .isZero();
    }
    assertThat(python(bare.resolve("bin/python3").toString(), "-c", "import alembic.config"))
        .as("the python3 first on the images' PATH has no Alembic")
        .isNotZero();
    return bin + ":" + bare.resolve("bin") + ":/usr/bin:/bin";
  }

  private static int python(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor();
  }

  /**
   * The example's files as the image of the release that ends at this revision holds them: its
   * revisions up to that one, and its app as of then (before 0005, the model reads and writes the
   * column {@code name}; from 0005 on, {@code username}).
   */
  static Path copy(Path dir, String lastRevision) throws IOException {
    try (Stream<Path> walk = Files.walk(EXAMPLE)) {
      for (Path f : walk.toList()) {
        Path target = dir.resolve(EXAMPLE.relativize(f).toString());
        String name = f.getFileName().toString();
        boolean revision = f.getParent().endsWith("alembic/versions") && name.endsWith(".py");
        if (Files.isDirectory(f)) {
          Files.createDirectories(target);
        } else if (f.toString().contains("__pycache__")) {
          continue;
        } else if (!revision || name.compareTo(lastRevision) < 0 || name.startsWith(lastRevision)) {
          Files.copy(f, target);
        }
      }
    }
    if (lastRevision.compareTo(RENAMED) < 0) {
      Path model = dir.resolve("app/models/user.py");
      String now = Files.readString(model);
      String before = now.replace(NEW_COLUMN, OLD_COLUMN);
      assertThat(before).as("the model maps the column username").isNotEqualTo(now);
      Files.writeString(model, before);
    }
    return dir;
  }

  /** The revision from which the app reads and writes app_user.username in place of name. */
  static final String RENAMED = "0005";

  static final String NEW_COLUMN = "name = Column(\"username\", Text, nullable=False)";
  static final String OLD_COLUMN = "name = Column(Text, nullable=False)";

  /**
   * The example's app of a release, on the real node: the example's service image (its Python and
   * virtual environment, uvicorn as its command) with that release's files in /app.
   */
  static String appImage(String image, Path release) throws Exception {
    return E2e.sandbox.real().images.python(image, release, Map.of());
  }

  @BeforeEach
  void world() throws Exception {
    world = new E2e().createDatabase();
  }

  @Test
  void upgradeToHeadServeTheAppThenDowngradeWithTheNewerImage() throws Exception {
    world.secret("orders-db", E2e.sandbox.database.url("postgresql+asyncpg", world.database));
    boolean real = E2e.KIND == Sandbox.Kind.REAL;
    if (real) {
      // the example's own app as of 1.3 (its image with that release's files), gated until its
      // database is at the target
      world.app("orders-api", appImage(APP13, v13), "orders-db", 8000);
    } else {
      world.deployment("orders-api", APP13);
    }
    Map<String, Object> spec = spec(V13, "head", "orders-db", "orders-api");
    spec.put("tool", "alembic");
    spec.put("downgrade", Map.of("policy", "Allow"));
    world.migration("orders", spec);

    eventually().until(() -> "Ready".equals(world.phase("orders")));
    assertThat(world.status("orders").get("currentRevision")).isEqualTo("0003");
    assertThat(
            E2e.sandbox.cluster.jobLog(
                world.ns, world.jobs("upgrade").get(0).getMetadata().getName()))
        .as("the Python the alembic shim execs, not the first python3 on PATH")
        .contains(
            "INFO  [schemagate] python: "
                + (real ? "/opt/venv/bin/python" : PYTHON)
                + " (the one "
                + (real ? "/app/bin/alembic" : E2e.sandbox.work.resolve("bin/alembic"))
                + " runs)");
    assertThat(world.rows("SELECT version_num FROM alembic_version")).containsExactly("0003");
    assertThat(world.history("orders").get(0).get("applied")).asList().hasSize(3);
    assertThat(world.paused("orders-api")).isFalse();

    // The app itself, against the database the operator migrated: the schema matches the models.
    // On the real node its pods, released by the operator, serve it; on the embedded sandbox a
    // local uvicorn does.
    URI users;
    Process app = null;
    if (real) {
      users = URI.create("http://" + world.servingPod("orders-api") + ":8000/users");
    } else {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      ProcessBuilder uvicorn =
          new ProcessBuilder(
                  PYTHON.toString(),
                  "-m",
                  "uvicorn",
                  "app.main:app",
                  "--port",
                  Integer.toString(port))
              .directory(v13.toFile())
              .redirectErrorStream(true)
              .redirectOutput(E2e.sandbox.work.resolve("uvicorn-" + world.ns + ".log").toFile());
      uvicorn
          .environment()
          .put("DATABASE_URL", E2e.sandbox.database.url("postgresql+asyncpg", world.database));
      uvicorn.environment().put("PYTHONDONTWRITEBYTECODE", "1");
      app = uvicorn.start();
      users = URI.create("http://127.0.0.1:" + port + "/users");
    }
    try {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      eventually()
          .ignoreExceptions()
          .until(
              () ->
                  http.send(
                              HttpRequest.newBuilder(users).build(),
                              HttpResponse.BodyHandlers.ofString())
                          .statusCode()
                      == 200);
      HttpResponse<String> created =
          http.send(
              HttpRequest.newBuilder(users)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"name\":\"ada\",\"email\":\"ada@example.com\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      assertThat(created.body()).contains("\"display_name\":\"ada\"");
      HttpResponse<String> listed =
          http.send(
              HttpRequest.newBuilder(users).timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(listed.body()).contains("ada@example.com");
      HttpResponse<String> one =
          http.send(
              HttpRequest.newBuilder(URI.create(users + "/1")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(one.statusCode())
          .as("the synchronous path through run_in_threadpool")
          .isEqualTo(200);
    } finally {
      if (app != null) {
        app.destroy();
      }
    }

    // Roll back to 1.2: revision 0002, run with the 1.3 image that holds 0003's downgrade.
    world.editSpec(
        "orders",
        s -> {
          s.put("image", V12);
          s.put("targetRevision", "0002");
        });
    eventually().until(() -> world.jobs().size() == 2);
    eventually()
        .until(
            () ->
                "Ready".equals(world.phase("orders"))
                    && "0002".equals(world.status("orders").get("currentRevision")));
    assertThat(world.rows("SELECT version_num FROM alembic_version")).containsExactly("0002");
    assertThat(world.history("orders").get(0).get("direction")).isEqualTo("downgrade");
    // the 1.3 image, pinned to the digest that reached 0003 (the kubelet reports image IDs)
    Object reached = world.history("orders").get(1).get("pinnedImage");
    assertThat(world.history("orders").get(0).get("image"))
        .isEqualTo(E2e.KIND == Sandbox.Kind.REAL ? reached : V13);
    if (E2e.KIND == Sandbox.Kind.REAL) {
      assertThat((String) reached)
          .matches("registry\\.example\\.com/shop/orders-migrations@sha256:[0-9a-f]{64}");
    }
    assertThat(
            world.rows(
                "SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'app_user' AND column_name = 'display_name'"))
        .containsExactly("0");
  }

  /**
   * The sentinel-password scenario with Alembic: a revision prints the database URL and fails on
   * SQL holding the password; the password is nowhere, the Job's log and result included.
   */
  @Test
  void aSentinelPasswordInTheSecretAppearsNowhere() throws Exception {
    String sentinel = "Sentinel@" + world.ns + "/p w";
    world.secret(
        "orders-db",
        E2e.sandbox
            .database
            .url("postgresql+asyncpg", world.database)
            .replace(
                ":postgres@",
                ":"
                    + java.net.URLEncoder.encode(sentinel, java.nio.charset.StandardCharsets.UTF_8)
                        .replace("+", "%20")
                    + "@"));
    Map<String, Object> spec = spec(LEAKY, "head", "orders-db");
    spec.put("tool", "alembic");
    world.migration("orders", spec);
    eventually().until(() -> "Failed".equals(world.phase("orders")));
    eventually().until(() -> world.eventReasons().contains("RunFailed"));
    assertThat((String) world.condition("orders", "Stalled").get("message"))
        .contains("revision 0004 failed", "unrecognized role option", "PASSWORD '*****' oops")
        .doesNotContain("Background on this error");
    String log = E2e.sandbox.cluster.jobLog(world.ns, world.jobs().get(0).getMetadata().getName());
    assertThat(log).contains("migrating postgresql+asyncpg://postgres:*****@");
    world.assertNowhere(sentinel, true);
  }
}
