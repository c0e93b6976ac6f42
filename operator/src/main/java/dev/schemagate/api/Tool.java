package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The migration tool inside the migration image; it decides the command the Job runs. */
public enum Tool {
  /** The schemagate runner (Flyway): the image's own entrypoint with migrate/undo. */
  @JsonProperty("flyway")
  FLYWAY,
  /** Alembic: the image's own {@code alembic} command, run from its working directory. */
  @JsonProperty("alembic")
  ALEMBIC,
  /** Any command given in {@code spec.command}, with the same environment contract. */
  @JsonProperty("custom")
  CUSTOM
}
