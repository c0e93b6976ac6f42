package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

public class DatabaseSpec {
  @JsonPropertyDescription(
      "Secret whose keys become the migration Job's environment (envFrom), for example DATABASE_URL."
          + " The operator never reads it; only the Job's pod does.")
  private SecretRef secretRef;

  public SecretRef getSecretRef() {
    return secretRef;
  }

  public void setSecretRef(SecretRef secretRef) {
    this.secretRef = secretRef;
  }
}
