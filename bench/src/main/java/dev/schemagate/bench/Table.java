package dev.schemagate.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A Markdown table of figures, printed and kept under bench/results/. */
final class Table {
  private final String title;
  private final List<String[]> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  Table(String title) {
    this.title = title;
  }

  Table row(String figure, String value, String target, String met) {
    rows.add(new String[] {figure, value, target, met});
    return this;
  }

  Table row(String figure, String value) {
    return row(figure, value, "", "");
  }

  /** A line under the machine's description (the load while measuring, what was compared). */
  Table note(String line) {
    notes.add(line);
    return this;
  }

  static String met(boolean ok) {
    return ok ? "met" : "missed";
  }

  String render() {
    StringBuilder out = new StringBuilder("### " + title + "\n\n" + Machine.describe() + "\n\n");
    for (String note : notes) {
      out.append(note).append("\n\n");
    }
    out.append("| figure | value | target | |\n| --- | --- | --- | --- |\n");
    for (String[] r : rows) {
      out.append("| ").append(String.join(" | ", r)).append(" |\n");
    }
    return out.toString();
  }

  void print(Path resultsDir, String file) throws IOException {
    String text = render();
    System.out.println(text);
    Files.createDirectories(resultsDir);
    Files.writeString(resultsDir.resolve(file), text);
  }
}
