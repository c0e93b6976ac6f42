package dev.schemagate.redact;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The inputs every rule must stay linear on, src/test/resources/hard-inputs.tsv (format: its
 * header).
 */
record HardInputs(List<HardInputs.Shape> shapes) {
  static final Path FILE = Path.of("src/test/resources/hard-inputs.tsv").toAbsolutePath();

  /** One input: a prefix, a unit repeated, a suffix. */
  record Shape(String name, String prefix, String unit, String suffix) {
    /** The input of {@code size} characters. */
    String of(int size) {
      StringBuilder text = new StringBuilder(size).append(prefix);
      while (text.length() < size - suffix.length()) {
        text.append(unit);
      }
      text.setLength(Math.max(prefix.length(), size - suffix.length()));
      return text.append(suffix).toString();
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static HardInputs load() throws IOException {
    List<Shape> shapes = new ArrayList<>();
    for (String line : Files.readAllLines(FILE, StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 4 || f[2].isEmpty()) {
        throw new IllegalStateException("not name, prefix, unit, suffix: " + line);
      }
      shapes.add(new Shape(f[0], unescape(f[1]), unescape(f[2]), unescape(f[3])));
    }
    return new HardInputs(shapes);
  }

  static String unescape(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        char n = s.charAt(++i);
        out.append(
            switch (n) {
              case 'n' -> '\n';
              case 'r' -> '\r';
              case 't' -> '\t';
              case '\\' -> '\\';
              default -> throw new IllegalStateException("unknown escape \\" + n + " in " + s);
            });
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
