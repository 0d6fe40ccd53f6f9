{{/* Names, labels and the checks that values.schema.json cannot express. */}}

{{- define "chartimpact.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chartimpact.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "chartimpact.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chartimpact.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chartimpact.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "chartimpact.labels" -}}
helm.sh/chart: {{ include "chartimpact.chart" . }}
{{ include "chartimpact.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: server
{{- end }}

{{- define "chartimpact.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chartimpact.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "chartimpact.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* SQLite keeps its database in the data volume: a claim, unless persistence is off. */}}
{{- define "chartimpact.dataClaim" -}}
{{- if and (eq .Values.database.type "sqlite") .Values.persistence.enabled }}
{{- default (printf "%s-data" (include "chartimpact.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}
{{- end }}

{{/* The in-flight requests (bounded by the compare timeout), the server's 30 s job drain, the
preStop sleep and a margin for closing the store. */}}
{{- define "chartimpact.minimumGracePeriod" -}}
{{- add .Values.preStopSleepSeconds .Values.server.compareTimeout 30 15 }}
{{- end }}

{{- define "chartimpact.terminationGracePeriod" -}}
{{- $minimum := include "chartimpact.minimumGracePeriod" . | int }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- $minimum }}
{{- else if lt (int .Values.terminationGracePeriodSeconds) $minimum }}
{{- fail (printf "terminationGracePeriodSeconds %d is shorter than the server's drain: preStopSleepSeconds + server.compareTimeout + 30 s of job drain + 15 = %d; raise it or leave it null" (int .Values.terminationGracePeriodSeconds) $minimum) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* Combinations of values the server or Kubernetes would reject later and less clearly. */}}
{{- define "chartimpact.validate" -}}
{{- if and (eq .Values.database.type "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount is %d but database.type is sqlite: SQLite lives in one pod's volume. Set database.type=postgres and database.existingSecret (a Secret with the postgres:// URL) to run several replicas" (int .Values.replicaCount)) }}
{{- end }}
{{- if and (eq .Values.database.type "postgres") (not .Values.database.existingSecret) }}
{{- fail "database.type is postgres but database.existingSecret is empty: name the Secret whose key database.secretKey holds the postgres:// URL" }}
{{- end }}
{{- if and .Values.webhooks.enabled (not .Values.webhooks.existingSecret) }}
{{- fail "webhooks.enabled is true but webhooks.existingSecret is empty: name the Secret whose key webhooks.secretKey holds the webhook secret (chartimpact-server gen-secret prints one)" }}
{{- end }}
{{- if and .Values.github.app.id .Values.github.token.existingSecret }}
{{- fail "both github.app.id and github.token.existingSecret are set: the server authenticates either as a GitHub App or with a token; keep one" }}
{{- end }}
{{- if and .Values.github.app.id (not .Values.github.app.existingSecret) }}
{{- fail "github.app.id is set but github.app.existingSecret is empty: name the Secret whose key github.app.privateKeyKey holds the App's private key (PEM)" }}
{{- end }}
{{- if and .Values.github.app.existingSecret (not .Values.github.app.id) }}
{{- fail "github.app.existingSecret is set but github.app.id is empty: set the App's numeric id (the App's settings page, \"App ID\")" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled is true but ingress.hosts is empty: list at least one host" }}
{{- end }}
{{- end }}
