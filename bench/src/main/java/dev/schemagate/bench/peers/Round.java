package dev.schemagate.bench.peers;

import java.time.Instant;

/**
 * What one round observed: when the peer's resource was applied, when it reported the migration
 * done (Ready, or the Job complete), and when the app's new version served (its rollout complete,
 * every replica available).
 */
public record Round(Instant applied, Instant migrated, Instant serving) {}
