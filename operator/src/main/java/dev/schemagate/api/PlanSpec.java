package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** How the plan of a run is made (spec.approval: Manual). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlanSpec {
  @Default("false")
  @JsonPropertyDescription(
      "true: the plan Job also runs the pending migrations in one transaction and rolls it back (PostgreSQL), and reports whether they succeed, how long they take and which locks they wait for. Migrations that cannot run in a transaction are listed as not rehearsed.")
  private Boolean rehearse = false;

  public Boolean getRehearse() {
    return rehearse;
  }

  public void setRehearse(Boolean rehearse) {
    this.rehearse = rehearse;
  }
}
