package dev.schemagate.sandbox.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * What Kubernetes puts in a terminated container's message: its termination-message file, at most
 * 4096 bytes; with {@code FallbackToLogsOnError}, an empty file and a failure, the log's last 80
 * lines, at most 2048 bytes.
 */
public final class TerminationMessage {
  static final int MAX_MESSAGE = 4096;
  static final int FALLBACK_LOG_BYTES = 2048;
  static final int FALLBACK_LOG_LINES = 80;

  private TerminationMessage() {}

  /** The message of a container that wrote {@code messageFile} and {@code log}, then exited. */
  public static String read(Path messageFile, Path log, int exitCode, String policy) {
    try {
      byte[] bytes = Files.exists(messageFile) ? Files.readAllBytes(messageFile) : new byte[0];
      if (bytes.length > MAX_MESSAGE) {
        bytes = Arrays.copyOf(bytes, MAX_MESSAGE);
      }
      String message = new String(bytes, StandardCharsets.UTF_8);
      if (message.isBlank()
          && exitCode != 0
          && "FallbackToLogsOnError".equals(policy)
          && log != null
          && Files.exists(log)) {
        message = tail(Files.readAllLines(log, StandardCharsets.UTF_8));
      }
      return message;
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(List<String> lines) {
    String tail =
        String.join(
            "\n", lines.subList(Math.max(0, lines.size() - FALLBACK_LOG_LINES), lines.size()));
    byte[] t = tail.getBytes(StandardCharsets.UTF_8);
    return t.length <= FALLBACK_LOG_BYTES
        ? tail
        : new String(t, t.length - FALLBACK_LOG_BYTES, FALLBACK_LOG_BYTES, StandardCharsets.UTF_8);
  }
}
