package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/**
 * The plan of the next upgrade (spec.approval: Manual), made by a plan Job before anything changes.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PlanStatus extends JobRecord {

  @JsonPropertyDescription("Planning, AwaitingApproval, Approved or Failed.")
  private PlanPhase phase;

  @JsonPropertyDescription(
      "The plan hash: what spec.approvedPlan must equal for the run to start. It covers the image, the target, the pending migrations (revision, description, checksum) and the database's state (current revision, applied checksums).")
  private String hash;

  @JsonPropertyDescription(
      "The hash, while the plan waits for approval (spec.approvedPlan); empty otherwise.")
  private String awaitingApproval;

  @JsonPropertyDescription("The image the plan was made with.")
  private String image;

  @JsonPropertyDescription("The target the plan was made for.")
  private String targetRevision;

  @JsonPropertyDescription("The revision the database was at.")
  private String fromRevision;

  @JsonPropertyDescription("The revision the plan reaches.")
  private String toRevision;

  @JsonPropertyDescription("The plan in one line.")
  private String summary;

  @JsonPropertyDescription("The migrations the run would apply, in order.")
  private List<PlannedMigration> pending;

  @JsonPropertyDescription("The rehearsal (spec.plan.rehearse).")
  private PlanRehearsal rehearsal;

  @JsonPropertyDescription("The ConfigMap that holds the plan's SQL (key plan.sql), redacted.")
  private String configMap;

  @JsonPropertyDescription("The size of the plan's whole SQL.")
  private Long sqlBytes;

  @JsonPropertyDescription(
      "true: the ConfigMap holds only the beginning of the SQL (the plan Job's log has all of it).")
  private Boolean sqlTruncated;

  @JsonPropertyDescription("Why the plan failed, or what the approval is waiting for.")
  private String message;

  @JsonPropertyDescription("When the plan was made (RFC 3339).")
  private String plannedAt;

  @JsonPropertyDescription("How long the plan Job took, from its creation to its completion.")
  private Long planSeconds;

  public PlanPhase getPhase() {
    return phase;
  }

  public void setPhase(PlanPhase phase) {
    this.phase = phase;
  }

  public String getHash() {
    return hash;
  }

  public void setHash(String hash) {
    this.hash = hash;
  }

  public String getAwaitingApproval() {
    return awaitingApproval;
  }

  public void setAwaitingApproval(String awaitingApproval) {
    this.awaitingApproval = awaitingApproval;
  }

  public String getImage() {
    return image;
  }

  public void setImage(String image) {
    this.image = image;
  }

  public String getTargetRevision() {
    return targetRevision;
  }

  public void setTargetRevision(String targetRevision) {
    this.targetRevision = targetRevision;
  }

  public String getFromRevision() {
    return fromRevision;
  }

  public void setFromRevision(String fromRevision) {
    this.fromRevision = fromRevision;
  }

  public String getToRevision() {
    return toRevision;
  }

  public void setToRevision(String toRevision) {
    this.toRevision = toRevision;
  }

  public String getSummary() {
    return summary;
  }

  public void setSummary(String summary) {
    this.summary = summary;
  }

  public List<PlannedMigration> getPending() {
    return pending;
  }

  public void setPending(List<PlannedMigration> pending) {
    this.pending = pending;
  }

  public PlanRehearsal getRehearsal() {
    return rehearsal;
  }

  public void setRehearsal(PlanRehearsal rehearsal) {
    this.rehearsal = rehearsal;
  }

  public String getConfigMap() {
    return configMap;
  }

  public void setConfigMap(String configMap) {
    this.configMap = configMap;
  }

  public Long getSqlBytes() {
    return sqlBytes;
  }

  public void setSqlBytes(Long sqlBytes) {
    this.sqlBytes = sqlBytes;
  }

  public Boolean getSqlTruncated() {
    return sqlTruncated;
  }

  public void setSqlTruncated(Boolean sqlTruncated) {
    this.sqlTruncated = sqlTruncated;
  }

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }

  public String getPlannedAt() {
    return plannedAt;
  }

  public void setPlannedAt(String plannedAt) {
    this.plannedAt = plannedAt;
  }

  public Long getPlanSeconds() {
    return planSeconds;
  }

  public void setPlanSeconds(Long planSeconds) {
    this.planSeconds = planSeconds;
  }
}
