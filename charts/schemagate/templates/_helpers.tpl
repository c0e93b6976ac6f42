{{- define "schemagate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "schemagate.labels" -}}
app.kubernetes.io/name: schemagate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "schemagate.selectorLabels" -}}
app.kubernetes.io/name: schemagate
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "schemagate.serviceAccountName" -}}
{{- default (include "schemagate.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/*
The operator's image: by digest (a released chart has repository and digest from its release),
else by a tag someone set. A chart from a clone has neither: it says so, and how to go on.
*/}}
{{- define "schemagate.image" -}}
{{- $image := .Values.image -}}
{{- if and $image.repository $image.digest -}}
{{ $image.repository }}@{{ $image.digest }}
{{- else if and $image.repository $image.tag -}}
{{ $image.repository }}:{{ $image.tag }}
{{- else -}}
{{- fail (printf "image.repository and image.digest are not set (repository %q, digest %q): this chart comes from a clone, and only a release writes its image into it. Install a released chart (helm install schemagate oci://REGISTRY/charts/schemagate --version VERSION), or push the operator's image (scripts/images push REGISTRY, then scripts/images index REGISTRY ARCH) and set --set image.repository=REGISTRY/schemagate/operator --set image.digest=sha256:... (docs/install.md)" $image.repository $image.digest) -}}
{{- end -}}
{{- end -}}

{{/* The rules the operator needs where it watches DatabaseMigrations. No access to Secrets. */}}
{{/*
The Alembic kit's image: by digest, else by tag; empty when neither is set (the operator then runs
no Alembic migration, and says why on each).
*/}}
{{- define "schemagate.alembicKitImage" -}}
{{- $kit := .Values.alembicKit -}}
{{- if and $kit.repository $kit.digest -}}
{{ $kit.repository }}@{{ $kit.digest }}
{{- else if and $kit.repository $kit.tag -}}
{{ $kit.repository }}:{{ $kit.tag }}
{{- end -}}
{{- end -}}

{{- define "schemagate.rules" -}}
- apiGroups: ["schemagate.dev"]
  resources: ["databasemigrations"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["schemagate.dev"]
  resources: ["databasemigrations/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["schemagate.dev"]
  resources: ["databasemigrations/finalizers"]
  verbs: ["update"]
# Jobs only of the shape the operator makes, Deployments only spec.paused and its held-by annotation:
# the operator-guard admission policies (templates/operator-guard.yaml) refuse the rest
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["create", "get", "list", "watch", "delete", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "patch"]
{{- if ne (include "schemagate.admission" .) "none" }}
# only to lift its own scheduling gate: the pod-gate-guard admission policy refuses any other change;
# with no admission hook (gate.admission.via none) no pod is gated, and no pod may be patched
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["patch"]
{{- end }}
{{- if eq (include "schemagate.admission" .) "webhook" }}
# only to wake a ReplicaSet whose pods the webhook refused while no replica answered (one
# annotation, schemagate.dev/nudged-at: the operator-guard admission policy refuses any other change)
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["list", "patch"]
{{- end }}
# the plan's SQL (spec.approval: Manual), in a ConfigMap each DatabaseMigration owns: written, never
# read; the operator-guard admission policy refuses any ConfigMap but its own plan ConfigMaps
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create", "patch"]
# Events: the operator's own (create, patch), and the Job controller's FailedCreate Events (a pod
# the API server refused), which it watches to report them (get, list, watch)
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch", "get", "list", "watch"]
{{- end -}}

{{/*
How pods are held at admission: "policy", "webhook" or "none". "auto" is the policy where the
cluster serves MutatingAdmissionPolicy (v1, or v1beta1), else the webhook.
*/}}
{{- define "schemagate.admission" -}}
{{- $via := .Values.gate.admission.via -}}
{{- if eq $via "auto" -}}
{{- if or (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy") (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy") -}}
policy
{{- else -}}
webhook
{{- end -}}
{{- else -}}
{{ $via }}
{{- end -}}
{{- end -}}

{{/* The API version of MutatingAdmissionPolicy this cluster serves. */}}
{{- define "schemagate.mapVersion" -}}
{{- if .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy" -}}
admissionregistration.k8s.io/v1
{{- else if .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy" -}}
admissionregistration.k8s.io/v1beta1
{{- else -}}
{{- fail "gate.admission.via is policy, but this cluster serves no MutatingAdmissionPolicy (Kubernetes 1.36+, or 1.34/1.35 with the MutatingAdmissionPolicy feature gate and admissionregistration.k8s.io/v1beta1): set gate.admission.via=webhook" -}}
{{- end -}}
{{- end -}}

{{/* The namespaces the admission hooks apply in: all, or those watched. */}}
{{- define "schemagate.namespaceSelector" -}}
{{- if eq .Values.watch.mode "namespaces" }}
namespaceSelector:
  matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: In
    values: {{ toJson .Values.watch.namespaces }}
{{- end }}
{{- end -}}

{{/* The user the operator's requests carry: its service account. */}}
{{- define "schemagate.operatorUser" -}}
system:serviceaccount:{{ .Release.Namespace }}:{{ include "schemagate.serviceAccountName" . }}
{{- end -}}
