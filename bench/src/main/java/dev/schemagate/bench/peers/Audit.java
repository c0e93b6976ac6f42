package dev.schemagate.bench.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.schemagate.sandbox.RealCluster;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A client's requests to the real control plane from a mark of its audit log on, counted as the
 * {@code writes} benchmark counts the operator's ("VERB resource"), by the user it calls as (the
 * API server audits service accounts' requests). The Lease's renewals are left out: they are not
 * per migration.
 */
final class Audit {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Audit() {}

  /** Where the audit log ends now (after the API server's batch of at most a second). */
  static long mark(RealCluster real) throws IOException, InterruptedException {
    return real.auditMark();
  }

  /** "VERB resource" -> count, of the requests the user sent. */
  static Map<String, Long> requests(RealCluster real, long since, String user)
      throws IOException, InterruptedException {
    real.auditMark(); // waits for the API server's batch
    Map<String, Long> counts = new TreeMap<>();
    if (!Files.exists(real.controlPlane.auditLog)) {
      return counts;
    }
    try (var file = new RandomAccessFile(real.controlPlane.auditLog.toFile(), "r")) {
      file.seek(Math.min(since, file.length()));
      BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(
                  Channels.newInputStream(file.getChannel()), StandardCharsets.UTF_8));
      String line;
      while ((line = lines.readLine()) != null) {
        JsonNode event = JSON.readTree(line);
        if (!user.equals(event.path("user").path("username").asText())) {
          continue;
        }
        JsonNode ref = event.path("objectRef");
        String resource =
            ref.path("resource").asText()
                + (ref.has("subresource") ? "/" + ref.path("subresource").asText() : "");
        if (resource.equals("leases")) {
          continue;
        }
        String verb =
            switch (event.path("verb").asText()) {
              case "create" -> "POST";
              case "update" -> "PUT";
              case "deletecollection" -> "DELETE";
              default -> event.path("verb").asText().toUpperCase(Locale.ROOT);
            };
        counts.merge(verb + " " + resource, 1L, Long::sum);
      }
    }
    return counts;
  }

  static long total(Map<String, Long> requests) {
    return requests.values().stream().mapToLong(Long::longValue).sum();
  }

  static long writes(Map<String, Long> requests) {
    return requests.entrySet().stream()
        .filter(
            e ->
                e.getKey().startsWith("POST ")
                    || e.getKey().startsWith("PUT ")
                    || e.getKey().startsWith("PATCH ")
                    || e.getKey().startsWith("DELETE "))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }
}
