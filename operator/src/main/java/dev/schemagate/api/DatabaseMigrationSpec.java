package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.ArrayList;
import java.util.List;

@ValidationRule(
    value = "!has(self.command) || (has(self.tool) && self.tool == 'custom')",
    message =
        "spec.command is only used with spec.tool: custom; remove spec.command or set spec.tool: custom",
    fieldPath = ".command",
    reason = "FieldValueForbidden")
@ValidationRule(
    value =
        "!has(self.tool) || self.tool != 'custom' || (has(self.command) && size(self.command) > 0)",
    message = "spec.tool: custom needs spec.command, the command that runs the migration",
    fieldPath = ".command",
    reason = "FieldValueRequired")
public class DatabaseMigrationSpec {
  @Required
  @Pattern("^\\S+$")
  @JsonPropertyDescription(
      "The migration image, for example registry.example.com/shop/orders-migrations:1.4.2. It must"
          + " contain the migrations up to targetRevision.")
  private String image;

  @Required
  @Pattern("^\\S+$")
  @JsonPropertyDescription(
      "The revision the database must reach: a Flyway version (0005), an Alembic revision id, or"
          + " head/latest for the newest in the image.")
  private String targetRevision;

  @Default("flyway")
  @JsonPropertyDescription(
      "The tool in the image: flyway (the schemagate runner), alembic, or custom (runs"
          + " spec.command, where the operator's policy allows custom commands).")
  private Tool tool = Tool.FLYWAY;

  @JsonPropertyDescription(
      "The command to run, with tool: custom only. It gets the same environment as every tool"
          + " (SCHEMAGATE_TARGET_REVISION, SCHEMAGATE_DIRECTION, SCHEMAGATE_RESULT_FILE, ...).")
  private List<String> command;

  @JsonPropertyDescription("Where the database settings come from.")
  private DatabaseSpec database;

  @JsonPropertyDescription(
      "Extra environment variables for the Job (valueFrom allowed). Names starting with"
          + " SCHEMAGATE_ are reserved.")
  private List<EnvVar> env = new ArrayList<>();

  @JsonPropertyDescription("The Deployments held back until the database is at the target.")
  private GateSpec gate;

  @JsonPropertyDescription("What to do when the target is below the current revision.")
  private DowngradeSpec downgrade;

  @JsonPropertyDescription("Options of the migration Job and its pod.")
  private JobOptions job;

  @JsonPropertyDescription(
      "Lock safety on a live database: the lock timeout of each migration and its retries, an"
          + " optional statement timeout, and the bounded wait for another run's migration lock.")
  private LocksSpec locks;

  @Default("20")
  @Min(1)
  @Max(100)
  @JsonPropertyDescription("How many runs status.history keeps, newest first.")
  private Integer historyLimit = 20;

  @Default("Automatic")
  @JsonPropertyDescription(
      "Automatic (default): an upgrade runs as soon as it is needed. Manual: a plan Job first"
          + " reports what the upgrade would apply (status.plan, and its SQL in a ConfigMap); the"
          + " upgrade runs only once spec.approvedPlan equals status.plan.hash. Downgrades are not"
          + " planned.")
  private Approval approval = Approval.Automatic;

  @Pattern("^[0-9a-f]{16}$")
  @JsonPropertyDescription(
      "With approval: Manual, the plan hash (status.plan.hash) approved to run. A hash of"
          + " another plan (the image, the target or the database changed since) runs nothing.")
  private String approvedPlan;

  @JsonPropertyDescription("How the plan is made (approval: Manual).")
  private PlanSpec plan;

  @Default("Automatic")
  @JsonPropertyDescription(
      "When the contract part of a release runs. A release whose migrations include contract"
          + " migrations runs in two parts: the expand part (every migration before the first"
          + " contract one), then, once every gated workload has rolled out completely, the"
          + " contract part. Automatic (default): at once; Manual: once spec.approvedContract"
          + " equals status.contract.hash.")
  private ContractMode contract = ContractMode.Automatic;

  @Pattern("^[0-9a-f]{10}$")
  @JsonPropertyDescription(
      "With contract: Manual, the hash of the contract part (status.contract.hash) approved to"
          + " run.")
  private String approvedContract;

  @JsonPropertyDescription(
      "Adopting a database that exists: on a database with objects but no history table, the"
          + " revision it is at is recorded (Flyway's baseline, Alembic's stamp) and the migrations"
          + " after it run. Without it such a database is not touched (reason BaselineRequired).")
  private BaselineSpec baseline;

  @JsonPropertyDescription(
      "Drift detection: a check Job every interval compares the live schema with the fingerprint"
          + " the last successful run recorded; onDrift: Block holds the next run until the drift"
          + " is acknowledged.")
  private DriftSpec drift;

  @Default("false")
  @JsonPropertyDescription(
      "true: start no new migration Job and report phase Suspended. A running Job is left to"
          + " finish.")
  private Boolean suspend = false;

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

  public Tool getTool() {
    return tool;
  }

  public void setTool(Tool tool) {
    this.tool = tool;
  }

  public List<String> getCommand() {
    return command;
  }

  public void setCommand(List<String> command) {
    this.command = command;
  }

  public DatabaseSpec getDatabase() {
    return database;
  }

  public void setDatabase(DatabaseSpec database) {
    this.database = database;
  }

  public List<EnvVar> getEnv() {
    return env;
  }

  public void setEnv(List<EnvVar> env) {
    this.env = env;
  }

  public GateSpec getGate() {
    return gate;
  }

  public void setGate(GateSpec gate) {
    this.gate = gate;
  }

  public DowngradeSpec getDowngrade() {
    return downgrade;
  }

  public void setDowngrade(DowngradeSpec downgrade) {
    this.downgrade = downgrade;
  }

  public JobOptions getJob() {
    return job;
  }

  public void setJob(JobOptions job) {
    this.job = job;
  }

  public LocksSpec getLocks() {
    return locks;
  }

  public void setLocks(LocksSpec locks) {
    this.locks = locks;
  }

  public Integer getHistoryLimit() {
    return historyLimit;
  }

  public void setHistoryLimit(Integer historyLimit) {
    this.historyLimit = historyLimit;
  }

  public Approval getApproval() {
    return approval;
  }

  public void setApproval(Approval approval) {
    this.approval = approval;
  }

  public String getApprovedPlan() {
    return approvedPlan;
  }

  public void setApprovedPlan(String approvedPlan) {
    this.approvedPlan = approvedPlan;
  }

  public PlanSpec getPlan() {
    return plan;
  }

  public void setPlan(PlanSpec plan) {
    this.plan = plan;
  }

  public ContractMode getContract() {
    return contract;
  }

  public void setContract(ContractMode contract) {
    this.contract = contract;
  }

  public String getApprovedContract() {
    return approvedContract;
  }

  public void setApprovedContract(String approvedContract) {
    this.approvedContract = approvedContract;
  }

  public BaselineSpec getBaseline() {
    return baseline;
  }

  public void setBaseline(BaselineSpec baseline) {
    this.baseline = baseline;
  }

  public DriftSpec getDrift() {
    return drift;
  }

  public void setDrift(DriftSpec drift) {
    this.drift = drift;
  }

  public Boolean getSuspend() {
    return suspend;
  }

  public void setSuspend(Boolean suspend) {
    this.suspend = suspend;
  }
}
