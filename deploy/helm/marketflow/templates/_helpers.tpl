{{/* Names, labels and the per-workload settings every template shares. */}}

{{- define "marketflow.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* The services that consume and publish events, in a fixed order. */}}
{{- define "marketflow.eventServices" -}}
{{- list "planning" "execution" "notification" "reporting" | toJson -}}
{{- end -}}

{{/* Enabled workloads (the four services, and web when enabled), as a JSON list. */}}
{{- define "marketflow.workloadNames" -}}
{{- $names := list -}}
{{- range $name := list "planning" "execution" "notification" "reporting" "web" -}}
{{- if (index $.Values.services $name).enabled -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- $names | toJson -}}
{{- end -}}

{{/* One workload's settings: .Values.defaults overridden by .Values.services.<name>. */}}
{{- define "marketflow.workload" -}}
{{- $defaults := deepCopy .root.Values.defaults -}}
{{- $own := deepCopy (index .root.Values.services .name) -}}
{{- mergeOverwrite $defaults $own | toYaml -}}
{{- end -}}

{{- define "marketflow.workloadName" -}}
{{- printf "%s-%s" (include "marketflow.fullname" .root) .name -}}
{{- end -}}

{{- define "marketflow.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: marketflow
{{- end -}}

{{- define "marketflow.labels" -}}
{{ include "marketflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "marketflow.commonLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: marketflow
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "marketflow.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (required "image.tag is required" .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "marketflow.topic" -}}
{{- printf "%s.%s.events" .root.Values.namespacePrefix .producer -}}
{{- end -}}

{{- define "marketflow.kafkaUsesSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.security.protocol }}true{{ end -}}
{{- end -}}

{{- define "marketflow.kafkaUsesTls" -}}
{{- if has .Values.kafka.security.protocol (list "SSL" "SASL_SSL") }}true{{ end -}}
{{- end -}}
