package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What a migration does to the app versions around it: an expand migration adds (the app version
 * before it runs on the schema it leaves); a contract migration removes or renames what an older
 * app version needs. Also the part of a release a run applied.
 */
public enum MigrationKind {
  @JsonProperty("expand")
  EXPAND,
  @JsonProperty("contract")
  CONTRACT;

  /** The word the Job contract and status use. */
  public String word() {
    return this == EXPAND ? "expand" : "contract";
  }

  /** The kind a Job reported, or null for a word it does not know (or none). */
  public static MigrationKind of(String word) {
    if ("contract".equals(word)) {
      return CONTRACT;
    }
    return "expand".equals(word) ? EXPAND : null;
  }
}
