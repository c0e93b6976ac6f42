package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The redaction in Python, for the Alembic path (which runs in the migration image's Python, not in
 * Java): schemagate_alembic.redaction, which scripts/alembic-kit makes from
 * redact/src/main/python/redaction.py.in and rules.txt each time it builds the kit. Built here as
 * the image's build makes it, it passes the corpus as the Java one does, gives what Java gives on
 * random text, and is linear on the hard inputs; each of these with the rules as this Python
 * compiles them and as a Python before 3.11 does (without possessive quantifiers).
 */
class PythonRedactionTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path KIT = Path.of("target/alembic-kit").toAbsolutePath();
  static final Path SCRIPTS = Path.of("src/test/resources").toAbsolutePath();
  static String module;

  @BeforeAll
  static void kit() throws Exception {
    Process build =
        new ProcessBuilder("bash", ROOT.resolve("scripts/alembic-kit").toString(), KIT.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(build.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(build.exitValue()).as(out).isZero();
    module = KIT.resolve("python/schemagate_alembic/redaction.py").toString();
  }

  @Test
  void theModuleHoldsEveryRuleOfRulesTxt() throws IOException {
    String built = Files.readString(Path.of(module));
    for (String rule : Redactor.RULES.stream().map(Object::toString).toList()) {
      assertThat(built).as("a rule of rules.txt").contains(rule);
    }
  }

  @Test
  void passesTheCorpus() throws Exception {
    String out = python(null, "run_corpus.py", module, Corpus.FILE.toString());
    int cases = Corpus.load().cases().size();
    int runs = 2 * (cases + Corpus.load().shapes().size());
    assertThat(out).as(out).contains(cases + " cases, " + runs + " passed, 0 failed");
  }

  @Test
  void givesWhatJavaGivesOnRandomText() throws Exception {
    List<String> texts = randomTexts(new Random(26), 3000);
    Path inputs = Files.createTempFile(Path.of("target"), "random-texts", ".hex");
    try {
      HexFormat hex = HexFormat.of();
      List<String> lines = new ArrayList<>();
      for (String t : texts) {
        lines.add(hex.formatHex(t.getBytes(StandardCharsets.UTF_8)));
      }
      Files.write(inputs, lines);
      for (String mode : List.of("", "--without-possessive")) {
        List<String> args = new ArrayList<>(List.of(module, "redact"));
        if (!mode.isEmpty()) {
          args.add(mode);
        }
        String[] out = python(inputs, "check_copy.py", args.toArray(String[]::new)).split("\n");
        assertThat(out).as("one output per text").hasSize(texts.size());
        List<String> differ = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
          String python = new String(hex.parseHex(out[i].strip()), StandardCharsets.UTF_8);
          String java = Redactor.redactOnce(texts.get(i));
          if (!python.equals(java)) {
            differ.add(
                String.format(
                    "%n  text   %s%n  java   %s%n  python %s", texts.get(i), java, python));
          }
        }
        assertThat(differ).as("%s %s gives other results than Java on", module, mode).isEmpty();
      }
    } finally {
      Files.deleteIfExists(inputs);
    }
  }

  @Test
  void isLinearOnTheHardInputs() throws Exception {
    for (String mode : List.of("", "--without-possessive")) {
      List<String> args = new ArrayList<>(List.of(module, "linear", HardInputs.FILE.toString()));
      if (!mode.isEmpty()) {
        args.add(mode);
      }
      String out = python(null, "check_copy.py", args.toArray(String[]::new));
      assertThat(out)
          .as(out)
          .contains(
              Redactor.RULES.size()
                  + " rules, "
                  + HardInputs.load().shapes().size()
                  + " inputs, 0 not linear");
    }
  }

  /**
   * Random text of the pieces credentials and the rules are made of (key words, separators, quotes,
   * escapes, URLs, line ends of three kinds, characters outside ASCII), 1 to 16 pieces.
   */
  static List<String> randomTexts(Random random, int count) {
    String[] pieces = {
      "password",
      "Password",
      "PASSWD",
      "pwd",
      "pass",
      "pw",
      "db_pass",
      "DB_PW",
      "secret",
      "token",
      "api_key",
      "access-key",
      "private_key",
      "client_secret",
      "Authorization",
      "Bearer ",
      "--password ",
      "-pwd ",
      "export ",
      "- ",
      "identified by ",
      "E'",
      "=",
      ":",
      " = ",
      ": ",
      "\"",
      "'",
      "\\",
      "\\\"",
      "''",
      "b'",
      "b\"",
      "{",
      "}",
      "}}",
      ";",
      "&",
      ",",
      " ",
      "  ",
      "\t",
      "\n",
      "\r\n",
      "\r",
      "//",
      "://",
      "@",
      "/",
      "?",
      "#",
      "(",
      ")",
      ")=(",
      "postgresql://app:",
      "https://u:",
      "//a:",
      "@db:5432/orders",
      "@host",
      "x",
      "abc",
      "s3cret",
      "two words",
      "[parameters: ",
      "]",
      "[SQL: ",
      "Key (api_token)=(",
      "db:5432:orders:app:",
      "*:*:*:*:",
      "\\:",
      "12",
      "10:15:",
      "é",
      "ß",
      "\u00a0",
      "\u0085",
      "\u2028",
      "\u212a",
      "\u017f",
      "\ud83d\udd11",
      "tokens",
      "bypass",
      "passed"
    };
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      StringBuilder text = new StringBuilder();
      for (int n = 1 + random.nextInt(16); n > 0; n--) {
        text.append(pieces[random.nextInt(pieces.length)]);
      }
      texts.add(text.toString());
    }
    return texts;
  }

  /**
   * Runs a script of src/test/resources with the project's Python, .tools/python (scripts/tools
   * makes it), never one of the machine's, and gives what it printed.
   */
  static String python(Path stdin, String script, String... args) throws Exception {
    Path venv = ROOT.resolve(".tools/python/bin/python");
    assertThat(venv).as("the project's virtual environment: run bash scripts/tools").isExecutable();
    String python = venv.toString();
    List<String> command = new ArrayList<>(List.of(python, SCRIPTS.resolve(script).toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    if (stdin != null) {
      builder.redirectInput(stdin.toFile());
    }
    Process p = builder.start();
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(script + " ended").isTrue();
      assertThat(p.exitValue()).as(script + " " + String.join(" ", args) + ":\n" + out).isZero();
      return out;
    } finally {
      p.destroyForcibly();
    }
  }
}
