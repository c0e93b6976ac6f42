package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Adopting a database that exists, without the tool's history: the revision it is at. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BaselineSpec {
  @Required
  @Pattern("^\\S+$")
  @JsonPropertyDescription(
      "The revision the database is at: a Flyway version (recorded as Flyway's baseline) or an"
          + " Alembic revision id (stamped). Used only when the database has objects and no"
          + " history table (flyway_schema_history, alembic_version); the migrations after it"
          + " run.")
  private String revision;

  public String getRevision() {
    return revision;
  }

  public void setRevision(String revision) {
    this.revision = revision;
  }
}
