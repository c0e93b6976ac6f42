package dev.schemagate.redact;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The corpus of password shapes, src/test/resources/password-shapes.txt (format: its header). */
record Corpus(List<Case> cases) {
  static final Path FILE = Path.of("src/test/resources/password-shapes.txt").toAbsolutePath();

  /** One case: its name, whether only known-password redaction applies, secrets, in and out. */
  record Case(String name, boolean knownOnly, List<String> secrets, String input, String expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Corpus load() throws IOException {
    List<Case> cases = new ArrayList<>();
    String name = null;
    List<String> secrets = new ArrayList<>();
    List<String> in = new ArrayList<>();
    List<String> out = new ArrayList<>();
    List<String> lines = new ArrayList<>(Files.readAllLines(FILE, StandardCharsets.UTF_8));
    lines.add("== end");
    for (String line : lines) {
      if (line.startsWith("== ")) {
        if (name != null) {
          boolean known = name.endsWith(" [known]");
          if (secrets.isEmpty() || in.isEmpty() || out.isEmpty()) {
            throw new IllegalStateException("case '" + name + "' needs secret:, < and > lines");
          }
          cases.add(
              new Case(
                  known ? name.substring(0, name.length() - 8) : name,
                  known,
                  List.copyOf(secrets),
                  String.join("\n", in),
                  String.join("\n", out)));
        }
        name = line.substring(3).strip();
        secrets.clear();
        in.clear();
        out.clear();
      } else if (line.startsWith("secret: ")) {
        secrets.add(line.substring(8));
      } else if (line.startsWith("< ")) {
        in.add(line.substring(2));
      } else if (line.startsWith("> ")) {
        out.add(line.substring(2));
      } else if (!line.isBlank() && !line.startsWith("#")) {
        throw new IllegalStateException("not a corpus line: " + line);
      }
    }
    return new Corpus(cases);
  }

  List<Case> shapes() {
    return cases.stream().filter(c -> !c.knownOnly()).toList();
  }
}
