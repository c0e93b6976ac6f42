package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class DatabaseMigrationStatus {
  @JsonPropertyDescription("The metadata.generation this status describes.")
  private Long observedGeneration;

  @JsonPropertyDescription(
      "Pending, Migrating, RollingOut, Contracting, Ready, Failed, Suspended, AwaitingApproval or"
          + " DriftBlocked.")
  private Phase phase;

  @JsonPropertyDescription(
      "The revision the database is at, as reported by the last successful run.")
  private String currentRevision;

  @JsonPropertyDescription(
      "The image that brought the database to currentRevision, pinned to the digest that ran"
          + " when its pod reported one (repository@sha256:...): it holds the down-migrations a"
          + " downgrade runs.")
  private String currentImage;

  @JsonPropertyDescription(
      "spec.image of the last successful run: with appliedTargetRevision, what the database is"
          + " known to match. A run is needed when the spec differs from them.")
  private String appliedImage;

  @JsonPropertyDescription("spec.targetRevision of the last successful run.")
  private String appliedTargetRevision;

  @JsonPropertyDescription(
      "The plan of the next upgrade (spec.approval: Manual): its migrations, hash and rehearsal.")
  private PlanStatus plan;

  @JsonPropertyDescription(
      "The schema fingerprint the last successful run recorded, and what the drift checks"
          + " (spec.drift) found.")
  private DriftStatus drift;

  @JsonPropertyDescription("The run in progress, if any.")
  private Run activeRun;

  @JsonPropertyDescription(
      "The revisions in place in the database, oldest first, as the successful runs applied and"
          + " undid them. A pod that requires one of them (schemagate.dev/requires-revision) is"
          + " admitted without waiting.")
  private List<String> appliedRevisions = new ArrayList<>();

  @JsonPropertyDescription(
      "The revisions among appliedRevisions that are contract migrations, oldest first. A pod that"
          + " requires a revision older than the newest of them is held at admission: the schema"
          + " no longer has what it needs (a rollback onto a contracted schema).")
  // not written while empty: a status stored before contract migrations existed writes out as it
  // was
  @JsonInclude(JsonInclude.Include.NON_EMPTY)
  private List<String> contractRevisions = new ArrayList<>();

  @JsonPropertyDescription(
      "The contract part of the release in progress (or of the last one): the migrations held"
          + " back until the app has rolled out, and what they wait for.")
  private ContractStatus contract;

  @JsonPropertyDescription("The Deployments this resource holds paused.")
  private List<String> heldDeployments = new ArrayList<>();

  @JsonPropertyDescription(
      "Pods that wait at the scheduling gate for a revision not in place yet (at most 20 named;"
          + " the RolloutHeld condition counts them all).")
  private List<String> heldPods = new ArrayList<>();

  @JsonPropertyDescription(
      "The last pod whose scheduling gate someone other than the operator removed while the"
          + " revision it needs was not in place (a GateLiftedByOthers Warning Event tells each):"
          + " the pod, when it was seen, and what it waited for. Only the latest is kept.")
  private GateLift gateLiftedByOthers;

  @JsonPropertyDescription(
      "Ready, Reconciling, Stalled, RolloutHeld and (with spec.drift) Drifted, in the Kubernetes"
          + " convention.")
  private List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Finished runs, newest first, at most spec.historyLimit.")
  private List<HistoryEntry> history = new ArrayList<>();

  public Long getObservedGeneration() {
    return observedGeneration;
  }

  public void setObservedGeneration(Long observedGeneration) {
    this.observedGeneration = observedGeneration;
  }

  public Phase getPhase() {
    return phase;
  }

  public void setPhase(Phase phase) {
    this.phase = phase;
  }

  public String getCurrentRevision() {
    return currentRevision;
  }

  public void setCurrentRevision(String currentRevision) {
    this.currentRevision = currentRevision;
  }

  public String getCurrentImage() {
    return currentImage;
  }

  public void setCurrentImage(String currentImage) {
    this.currentImage = currentImage;
  }

  public String getAppliedImage() {
    return appliedImage;
  }

  public void setAppliedImage(String appliedImage) {
    this.appliedImage = appliedImage;
  }

  public String getAppliedTargetRevision() {
    return appliedTargetRevision;
  }

  public void setAppliedTargetRevision(String appliedTargetRevision) {
    this.appliedTargetRevision = appliedTargetRevision;
  }

  public Run getActiveRun() {
    return activeRun;
  }

  public void setActiveRun(Run activeRun) {
    this.activeRun = activeRun;
  }

  public List<String> getAppliedRevisions() {
    return appliedRevisions;
  }

  public void setAppliedRevisions(List<String> appliedRevisions) {
    this.appliedRevisions = appliedRevisions;
  }

  public List<String> getContractRevisions() {
    return contractRevisions;
  }

  public void setContractRevisions(List<String> contractRevisions) {
    this.contractRevisions = contractRevisions;
  }

  public ContractStatus getContract() {
    return contract;
  }

  public void setContract(ContractStatus contract) {
    this.contract = contract;
  }

  public List<String> getHeldPods() {
    return heldPods;
  }

  public void setHeldPods(List<String> heldPods) {
    this.heldPods = heldPods;
  }

  public GateLift getGateLiftedByOthers() {
    return gateLiftedByOthers;
  }

  public void setGateLiftedByOthers(GateLift gateLiftedByOthers) {
    this.gateLiftedByOthers = gateLiftedByOthers;
  }

  public List<String> getHeldDeployments() {
    return heldDeployments;
  }

  public void setHeldDeployments(List<String> heldDeployments) {
    this.heldDeployments = heldDeployments;
  }

  public List<Condition> getConditions() {
    return conditions;
  }

  public void setConditions(List<Condition> conditions) {
    this.conditions = conditions;
  }

  public List<HistoryEntry> getHistory() {
    return history;
  }

  public void setHistory(List<HistoryEntry> history) {
    this.history = history;
  }

  public PlanStatus getPlan() {
    return plan;
  }

  public void setPlan(PlanStatus plan) {
    this.plan = plan;
  }

  public DriftStatus getDrift() {
    return drift;
  }

  public void setDrift(DriftStatus drift) {
    this.drift = drift;
  }
}
