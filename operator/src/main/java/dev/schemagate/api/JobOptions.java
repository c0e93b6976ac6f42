package dev.schemagate.api;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** Knobs for the migration Job and its pod. */
public class JobOptions {
  @Min(1)
  @JsonPropertyDescription(
      "Seconds the Job may run before Kubernetes stops it (reason DeadlineExceeded). Unset: the"
          + " operator's default (SCHEMAGATE_DEFAULT_JOB_DEADLINE_SECONDS, 900).")
  private Long activeDeadlineSeconds;

  @Default("0")
  @Min(0)
  @Max(10)
  @JsonPropertyDescription(
      "Pod retries before the Job fails. 0 (default): a failed migration is not re-run"
          + " automatically; disruptions (eviction, preemption) never count.")
  private Integer backoffLimit = 0;

  @JsonPropertyDescription(
      "ServiceAccount the Job's pod runs as (unset: the namespace's default); the operator's policy"
          + " lists the ones allowed (by default only default). Its token is not mounted.")
  private String serviceAccountName;

  @Min(0)
  @ValidationRule(
      value = "self != 0",
      message =
          "spec.job.runAsUser must not be 0: the migration pod runs as a non-root user; use the"
              + " numeric ID of a non-root user the image can run as, for example 1000",
      reason = "FieldValueForbidden")
  @JsonPropertyDescription(
      "The numeric user ID the migration container runs as (not 0). Unset: the image's own USER,"
          + " which must then be numeric and not root (the pod runs with runAsNonRoot).")
  private Long runAsUser;

  @JsonPropertyDescription("Secrets used to pull the migration image.")
  private List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription(
      "Compute resources of the migration container. Each request and limit it leaves out comes"
          + " from the operator's defaults (the chart's defaultJobResources: 100m CPU and 256Mi"
          + " requested, 1 CPU and 512Mi at most); a request above its limit is lowered to it.")
  private ResourceRequirements resources;

  @JsonPropertyDescription(
      "Size limit of the Job's /tmp (an emptyDir), such as 1Gi. Unset: the operator's default"
          + " (the chart's defaultJobTmpSizeLimit, 256Mi).")
  private Quantity tmpSizeLimit;

  @JsonPropertyDescription("Node selector of the Job's pod.")
  private Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations of the Job's pod.")
  private List<Toleration> tolerations;

  @JsonPropertyDescription("Extra labels on the Job's pod.")
  private Map<String, String> podLabels;

  @JsonPropertyDescription("Extra annotations on the Job's pod.")
  private Map<String, String> podAnnotations;

  public Long getActiveDeadlineSeconds() {
    return activeDeadlineSeconds;
  }

  public void setActiveDeadlineSeconds(Long activeDeadlineSeconds) {
    this.activeDeadlineSeconds = activeDeadlineSeconds;
  }

  public Integer getBackoffLimit() {
    return backoffLimit;
  }

  public void setBackoffLimit(Integer backoffLimit) {
    this.backoffLimit = backoffLimit;
  }

  public String getServiceAccountName() {
    return serviceAccountName;
  }

  public void setServiceAccountName(String serviceAccountName) {
    this.serviceAccountName = serviceAccountName;
  }

  public Long getRunAsUser() {
    return runAsUser;
  }

  public void setRunAsUser(Long runAsUser) {
    this.runAsUser = runAsUser;
  }

  public List<LocalObjectReference> getImagePullSecrets() {
    return imagePullSecrets;
  }

  public void setImagePullSecrets(List<LocalObjectReference> imagePullSecrets) {
    this.imagePullSecrets = imagePullSecrets;
  }

  public ResourceRequirements getResources() {
    return resources;
  }

  public void setResources(ResourceRequirements resources) {
    this.resources = resources;
  }

  public Quantity getTmpSizeLimit() {
    return tmpSizeLimit;
  }

  public void setTmpSizeLimit(Quantity tmpSizeLimit) {
    this.tmpSizeLimit = tmpSizeLimit;
  }

  public Map<String, String> getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(Map<String, String> nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations;
  }

  public Map<String, String> getPodLabels() {
    return podLabels;
  }

  public void setPodLabels(Map<String, String> podLabels) {
    this.podLabels = podLabels;
  }

  public Map<String, String> getPodAnnotations() {
    return podAnnotations;
  }

  public void setPodAnnotations(Map<String, String> podAnnotations) {
    this.podAnnotations = podAnnotations;
  }
}
