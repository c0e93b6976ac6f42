package dev.schemagate.redact;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rule on every hard input (src/test/resources/hard-inputs.tsv) at 4 KB and 16 KB: the
 * characters the rule reads grow linearly with the input (at most 8 times as many for 4 times the
 * input, plus 100,000), and matching runs on a thread with a 256 KB stack, a quarter of a Java
 * thread's default. What a rule reads is counted, not timed: the count is the same on a busy
 * machine, and a rule that reads more than 1,000 characters per character of input is stopped there
 * rather than left to run for minutes. (Speed itself: bash scripts/bench redaction.)
 */
class LinearityTest {
  static final int SMALL = 4096;
  static final int LARGE = 16384;
  static final long STOP = 1000L * LARGE;
  static final long STACK = 256 * 1024;

  static Stream<Arguments> rules() throws IOException {
    List<String> names = ruleNames();
    return IntStream.range(0, Redactor.RULES.size()).mapToObj(i -> Arguments.of(i, names.get(i)));
  }

  @ParameterizedTest(name = "rule {0}: {1}")
  @MethodSource("rules")
  void whatTheRuleReadsGrowsLinearlyOnEveryHardInputWithinASmallStack(int index, String name)
      throws Exception {
    Pattern rule = Redactor.RULES.get(index);
    List<String> problems = new ArrayList<>();
    for (HardInputs.Shape shape : HardInputs.load().shapes()) {
      Reads small = reads(rule, shape.of(SMALL));
      Reads large = small.failure() == null ? reads(rule, shape.of(LARGE)) : small;
      if (small.failure() != null || large.failure() != null) {
        problems.add(
            String.format(
                "'%s': %s", shape, small.failure() != null ? small.failure() : large.failure()));
      } else if (large.count() > 8 * small.count() + 100_000) {
        problems.add(
            String.format(
                "'%s': read %,d characters on 4 KB and %,d on 16 KB",
                shape, small.count(), large.count()));
      }
    }
    assertThat(problems).as("rule %d (%s), not linear on", index, name).isEmpty();
  }

  /** What matching the rule on the text read, or how it failed. */
  record Reads(long count, String failure) {}

  static Reads reads(Pattern rule, String text) throws InterruptedException {
    Counted counted = new Counted(text);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread thread =
        new Thread(
            null,
            () -> {
              try {
                Redactor.maskGroup(rule, counted);
              } catch (Throwable t) {
                thrown.set(t);
              }
            },
            "redact",
            STACK);
    thread.start();
    thread.join();
    String size = text.length() / 1024 + " KB";
    if (thrown.get() instanceof Stopped) {
      return new Reads(
          counted.reads, String.format("stopped after reading %,d characters of %s", STOP, size));
    }
    if (thrown.get() != null) {
      return new Reads(counted.reads, thrown.get().getClass().getSimpleName() + " on " + size);
    }
    return new Reads(counted.reads, null);
  }

  /** The first comment line above each rule of rules.txt: its name. */
  static List<String> ruleNames() throws IOException {
    List<String> names = new ArrayList<>();
    try (InputStream in = Redactor.class.getResourceAsStream("rules.txt")) {
      String comment = null;
      for (String line :
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
        if (line.equals("#") || line.isBlank()) {
          comment = null;
        } else if (line.startsWith("#")) {
          comment = comment == null ? line.substring(1).strip() : comment;
        } else {
          names.add(comment == null ? "unnamed" : comment);
          comment = null;
        }
      }
    }
    return names;
  }

  private static final class Stopped extends RuntimeException {
    Stopped() {
      super(null, null, false, false);
    }
  }

  /** The text, counting the characters read, and stopping the reader past {@link #STOP}. */
  private static final class Counted implements CharSequence {
    private final String text;
    long reads;

    Counted(String text) {
      this.text = text;
    }

    @Override
    public int length() {
      return text.length();
    }

    @Override
    public char charAt(int index) {
      if (++reads > STOP) {
        throw new Stopped();
      }
      return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return text.subSequence(start, end);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
