package dev.schemagate.api;

/** The lifecycle phase shown in {@code kubectl get dbm}. */
public enum Phase {
  Pending,
  Migrating,
  Ready,
  Failed,
  Suspended
}
