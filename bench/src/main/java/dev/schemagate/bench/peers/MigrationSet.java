package dev.schemagate.bench.peers;

import java.nio.file.Path;

/**
 * The migrations every peer applies: Flyway-named SQL files ({@code V<n>__<description>.sql}) in
 * {@code sqlDir}, each a plain SQL script any tool can run as it is.
 */
public record MigrationSet(String name, Path sqlDir, int count) {}
