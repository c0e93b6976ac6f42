package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/**
 * The contract part of a release: the migrations from the first contract migration to the target,
 * held back while the app rolls out, and what they wait for.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ContractStatus {
  @JsonPropertyDescription(
      "AwaitingRollout, RolloutStuck, AwaitingApproval, Contracting, Completed or Failed.")
  private ContractPhase phase;

  @JsonPropertyDescription("spec.image of the release.")
  private String image;

  @JsonPropertyDescription("spec.targetRevision of the release.")
  private String targetRevision;

  @JsonPropertyDescription("The revision the expand part left the database at.")
  private String expandRevision;

  @JsonPropertyDescription("When the expand part was recorded and the app released (RFC 3339).")
  private String expandedAt;

  @JsonPropertyDescription(
      "The contract part, in order: from the first contract migration to the target, each with"
          + " its kind.")
  private List<PlannedMigration> pending = new ArrayList<>();

  @JsonPropertyDescription(
      "What the contract part waits for: the gated workloads still rolling out (at most 20).")
  private List<String> waitingFor = new ArrayList<>();

  @JsonPropertyDescription(
      "RolloutComplete: when every gated workload was seen rolled out (all replicas on a template"
          + " that runs on the contracted schema, available, no pod of an older one left).")
  private String rolloutCompletedAt;

  @JsonPropertyDescription(
      "What spec.approvedContract must equal for the contract part to run (spec.contract:"
          + " Manual).")
  private String hash;

  @JsonPropertyDescription("The hash, while the contract part waits for approval; empty otherwise.")
  private String awaitingApproval;

  @JsonPropertyDescription("Where the contract part stands, in words.")
  private String message;

  public ContractPhase getPhase() {
    return phase;
  }

  public void setPhase(ContractPhase phase) {
    this.phase = phase;
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

  public String getExpandRevision() {
    return expandRevision;
  }

  public void setExpandRevision(String expandRevision) {
    this.expandRevision = expandRevision;
  }

  public String getExpandedAt() {
    return expandedAt;
  }

  public void setExpandedAt(String expandedAt) {
    this.expandedAt = expandedAt;
  }

  public List<PlannedMigration> getPending() {
    return pending;
  }

  public void setPending(List<PlannedMigration> pending) {
    this.pending = pending;
  }

  public List<String> getWaitingFor() {
    return waitingFor;
  }

  public void setWaitingFor(List<String> waitingFor) {
    this.waitingFor = waitingFor;
  }

  public String getRolloutCompletedAt() {
    return rolloutCompletedAt;
  }

  public void setRolloutCompletedAt(String rolloutCompletedAt) {
    this.rolloutCompletedAt = rolloutCompletedAt;
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

  public String getMessage() {
    return message;
  }

  public void setMessage(String message) {
    this.message = message;
  }
}
