{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "freelanceflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: `<release>-<chart>`, or the release name alone when it already
contains the chart name, or fullnameOverride.
*/}}
{{- define "freelanceflow.fullname" -}}
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
`name-version` of the chart, for the helm.sh/chart label.
*/}}
{{- define "freelanceflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select the operator pod: they never change across upgrades.
*/}}
{{- define "freelanceflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "freelanceflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Standard labels of every object of the release.
*/}}
{{- define "freelanceflow.labels" -}}
helm.sh/chart: {{ include "freelanceflow.chart" . }}
{{ include "freelanceflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: freelanceflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The operator's ServiceAccount.
*/}}
{{- define "freelanceflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "freelanceflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image, `repository:tag` (tag defaults to the chart's appVersion).
*/}}
{{- define "freelanceflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
