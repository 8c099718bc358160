{{/*
The chart's name, overridable with nameOverride.
*/}}
{{- define "tfmodel-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride; else the release name when it contains the
chart name; else the chart name when it starts with "<release>-" (release "tfmodel" gives
"tfmodel-operator"); else <release>-<chart>.
*/}}
{{- define "tfmodel-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else if hasPrefix (printf "%s-" .Release.Name) $name }}
{{- $name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "tfmodel-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "tfmodel-operator.labels" -}}
helm.sh/chart: {{ include "tfmodel-operator.chart" . }}
{{ include "tfmodel-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: tfmodel
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels selecting the operator pods (immutable in a Deployment: never add to them).
*/}}
{{- define "tfmodel-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tfmodel-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The operator's ServiceAccount.
*/}}
{{- define "tfmodel-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tfmodel-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: repository:tag, the tag defaulting to the chart's appVersion.
Call with (dict "image" .Values.image "root" .).
*/}}
{{- define "tfmodel-operator.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/*
The rules for events, shared by the watch-scope role and the leader-election Role.
*/}}
{{- define "tfmodel-operator.eventRules" -}}
# Events: the operator records Normal/Warning events on TFModels (ConfigApplied, Promoted,
# PromotionBlocked, ...) and the leader election records LeaderElection events. Recorders create
# an event and patch its count when it repeats; they never read or delete events. Both APIs: the
# core one ("") and events.k8s.io/v1, which newer recorders use.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}
