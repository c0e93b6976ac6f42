{{/*
The alert rules: the one source of the PrometheusRule (metrics.prometheusRule), the rules
ConfigMap (metrics.rulesConfigMap) and the plain rules file charts/schemagate/monitoring/
schemagate.rules.yaml (this, rendered with the defaults; a chart test keeps them equal). Every
expression reads metrics the operator exports (charts/schemagate/monitoring/metrics.txt); each
alert has a runbook in docs/operations.md. Per-DatabaseMigration series come from the leader only
and carry its namespace and name (the scrape must honor them), hence max by (namespace, name).
*/}}
{{- define "schemagate.alertGroups" -}}
{{- $a := .Values.alerts -}}
{{- $url := .Values.alerts.runbookUrl -}}
groups:
- name: schemagate
  rules:
  - alert: SchemagateMigrationStalled
    expr: max by (namespace, name, reason) (schemagate_migration_stalled) > 0
    for: {{ $a.migrationStalled.for }}
    labels:
      severity: {{ $a.migrationStalled.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: A DatabaseMigration is stalled and needs a person
      description: {{`'DatabaseMigration {{ $labels.namespace }}/{{ $labels.name }} is Stalled with reason {{ $labels.reason }}: its app stays held on its running version until the cause is fixed. kubectl -n {{ $labels.namespace }} describe dbm {{ $labels.name }}'`}}
      runbook_url: {{ $url }}#schemagatemigrationstalled
  - alert: SchemagateRolloutHeldTooLong
    expr: time() - max by (namespace, name) (schemagate_rollout_held_since_timestamp_seconds) > {{ $a.rolloutHeld.longerThanSeconds }}
    labels:
      severity: {{ $a.rolloutHeld.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: An app has been held back by its migration for too long
      description: {{`'DatabaseMigration {{ $labels.namespace }}/{{ $labels.name }} has held its app (Deployments paused, or pods at the scheduling gate) for {{ $value | humanizeDuration }}. kubectl -n {{ $labels.namespace }} get dbm {{ $labels.name }} -o jsonpath={.status.conditions}'`}}
      runbook_url: {{ $url }}#schemagaterolloutheldtoolong
  - alert: SchemagatePodsWaitingAtGate
    expr: max by (namespace, name) (schemagate_pods_at_gate) > 0
    for: {{ $a.podsAtGate.for }}
    labels:
      severity: {{ $a.podsAtGate.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: A rollout's new pods wait at the admission gate
      description: {{`'{{ $value }} pods of the app of DatabaseMigration {{ $labels.namespace }}/{{ $labels.name }} have waited at its scheduling gate (SchedulingGated) for a revision that is not in place. kubectl -n {{ $labels.namespace }} get pods -l schemagate.dev/migration={{ $labels.name }}'`}}
      runbook_url: {{ $url }}#schemagatepodswaitingatgate
  - alert: SchemagateDriftDetected
    expr: max by (namespace, name) (schemagate_drift_detected{acknowledged="false"}) > 0
    for: {{ $a.driftDetected.for }}
    labels:
      severity: {{ $a.driftDetected.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: A database schema differs from what its migrations made
      description: {{`'The last drift check of DatabaseMigration {{ $labels.namespace }}/{{ $labels.name }} found the live schema other than the one its last run recorded, and nobody acknowledged it. kubectl -n {{ $labels.namespace }} get dbm {{ $labels.name }} -o jsonpath={.status.drift.live}'`}}
      runbook_url: {{ $url }}#schemagatedriftdetected
  - alert: SchemagateDriftChecksFailing
    expr: max by (namespace, name) (schemagate_drift_check_consecutive_failures) >= {{ $a.driftChecksFailing.failuresInARow }}
    labels:
      severity: {{ $a.driftChecksFailing.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: Drift checks keep failing
      description: {{`'The last {{ $value }} drift checks of DatabaseMigration {{ $labels.namespace }}/{{ $labels.name }} failed: drift is not being checked. kubectl -n {{ $labels.namespace }} get dbm {{ $labels.name }} -o jsonpath={.status.drift.check}'`}}
      runbook_url: {{ $url }}#schemagatedriftchecksfailing
  - alert: SchemagateWebhookErrors
    expr: sum by (namespace, job) (increase(schemagate_admission_requests_seconds_count{result="error"}[5m])) > 0
    for: {{ $a.webhookErrors.for }}
    labels:
      severity: {{ $a.webhookErrors.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: The admission webhook fails to answer
      description: {{`'The schemagate admission webhook ({{ $labels.namespace }}) could not answer {{ $value | humanize }} requests in the last 5 minutes: with failurePolicy Fail the API server refuses those pods. kubectl -n {{ $labels.namespace }} logs -l app.kubernetes.io/name=schemagate'`}}
      runbook_url: {{ $url }}#schemagatewebhookerrors
  - alert: SchemagateWebhookSlow
    expr: histogram_quantile(0.99, sum by (namespace, job, le) (rate(schemagate_admission_requests_seconds_bucket{result!="error"}[5m]))) > {{ $a.webhookSlow.p99Seconds }}
    for: {{ $a.webhookSlow.for }}
    labels:
      severity: {{ $a.webhookSlow.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: The admission webhook answers slowly
      description: {{`'The schemagate admission webhook ({{ $labels.namespace }}) takes {{ $value | humanizeDuration }} at the 99th percentile: near the API server timeout, pods that name a DatabaseMigration are refused. kubectl -n {{ $labels.namespace }} top pods -l app.kubernetes.io/name=schemagate'`}}
      runbook_url: {{ $url }}#schemagatewebhookslow
  - alert: SchemagateNoLeader
    expr: max by (namespace, job) (schemagate_leader) < 1 or absent(schemagate_leader)
    for: {{ $a.noLeader.for }}
    labels:
      severity: {{ $a.noLeader.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: No schemagate replica leads
      description: {{`'No schemagate operator replica{{ with $labels.namespace }} in {{ . }}{{ end }} holds the Lease, or none is scraped: no migration starts, no held app is released. kubectl get pods -A -l app.kubernetes.io/name=schemagate; kubectl get leases -A --field-selector metadata.name=schemagate-operator'`}}
      runbook_url: {{ $url }}#schemagatenoleader
  - alert: SchemagateReconcileErrors
    expr: sum by (namespace, job) (increase(operator_sdk_controllers_execution_reconcile_failure_total{controller="databasemigration"}[15m])) > {{ $a.reconcileErrors.perFifteenMinutes }}
    for: {{ $a.reconcileErrors.for }}
    labels:
      severity: {{ $a.reconcileErrors.severity }}
      {{- with $a.labels }}{{ toYaml . | nindent 6 }}{{ end }}
    annotations:
      summary: The operator's reconciles keep failing
      description: {{`'{{ $value | humanize }} reconciles of DatabaseMigrations failed in 15 minutes ({{ $labels.namespace }}); each is retried, but something keeps failing. kubectl -n {{ $labels.namespace }} logs -l app.kubernetes.io/name=schemagate | grep -E "WARN|ERROR"'`}}
      runbook_url: {{ $url }}#schemagatereconcileerrors
{{- end -}}
