{{/*
The release-qualified name, as the subcharts build theirs ("<release>-<chart>", not repeated
when the release name already contains the chart name), so this chart can name their Services.
*/}}
{{- define "multi-chart.fullnameOf" -}}
{{- $release := index . 0 }}
{{- $chart := index . 1 }}
{{- if contains $chart $release }}
{{- $release | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" $release $chart | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "multi-chart.fullname" -}}
{{- include "multi-chart.fullnameOf" (list .Release.Name .Chart.Name) }}
{{- end }}

{{- define "multi-chart.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: roost-test
{{- end }}
