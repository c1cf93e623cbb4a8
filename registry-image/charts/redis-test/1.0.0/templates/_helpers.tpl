{{/*
The chart's name, or nameOverride.
*/}}
{{- define "redis-test.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release-qualified name of every object, cut to the 63 characters a label value may have.
A release whose name already contains the chart's name is not repeated ("redis-test", not
"redis-test-redis-test").
*/}}
{{- define "redis-test.fullname" -}}
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

{{/*
name-version for the helm.sh/chart label ("+" is not allowed in label values).
*/}}
{{- define "redis-test.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Kubernetes' recommended labels.
*/}}
{{- define "redis-test.labels" -}}
helm.sh/chart: {{ include "redis-test.chart" . }}
{{ include "redis-test.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: roost-test
{{- end }}

{{/*
The labels a Service selects on; they never change for a release, so upgrades keep working.
*/}}
{{- define "redis-test.selectorLabels" -}}
app.kubernetes.io/name: {{ include "redis-test.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
image:tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "redis-test.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
