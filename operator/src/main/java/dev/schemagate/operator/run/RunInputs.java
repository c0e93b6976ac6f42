package dev.schemagate.operator.run;

import dev.schemagate.api.Direction;

/** Everything that defines one run, and so its Job. */
public record RunInputs(
    String id,
    String jobName,
    Direction direction,
    String image,
    String requestedImage,
    String targetRevision,
    String fromRevision,
    long generation) {}
