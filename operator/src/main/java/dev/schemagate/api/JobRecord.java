package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A Job of the operator's as status records it: a run ({@link Run}, then a {@link HistoryEntry}),
 * the plan of an upgrade ({@link PlanStatus}) or a drift check ({@link DriftCheck}). Each is one
 * Job, named from its id; the id is also on the Job's pods (label schemagate.dev/run-id).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class JobRecord {
  @JsonPropertyDescription(
      "The id: a hash of what the Job is for (a run: its image, target, direction, generation"
          + " and retry; a plan: the run's inputs, the current revision, rehearse and retry; a"
          + " drift check: when it was due), also in the Job's name and on its pods.")
  private String id;

  @JsonPropertyDescription("The name of the Job.")
  private String job;

  @JsonPropertyDescription(
      "The UID of the Job the operator created (or proved to be the one it would create) for"
          + " this record: only that Job, and the pods it controls, are read for it.")
  private String jobUid;

  public String getId() {
    return id;
  }

  public void setId(String id) {
    this.id = id;
  }

  public String getJob() {
    return job;
  }

  public void setJob(String job) {
    this.job = job;
  }

  public String getJobUid() {
    return jobUid;
  }

  public void setJobUid(String jobUid) {
    this.jobUid = jobUid;
  }
}
