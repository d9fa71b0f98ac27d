{{- /* Object names follow the upstream chart: <component><-suffix>, Services <component>-service<-suffix>. */}}
{{- define "exa.suffix" -}}{{ with .Values.exafunction.suffix }}-{{ . }}{{ end }}{{- end }}
{{- define "exa.fullname" -}}
{{- if .Values.fullnameOverride }}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}{{ printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}
{{- end }}
{{- define "exa.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "exa.serviceAccount" -}}
{{- if .Values.serviceAccount.create }}{{ default (include "exa.fullname" .) .Values.serviceAccount.name }}
{{- else }}{{ default "default" .Values.serviceAccount.name }}{{ end }}
{{- end }}
{{- define "exa.moduleRepositoryHost" -}}
module-repository-service{{ include "exa.suffix" . }}{{ with .Values.exafunction.clusterDomain }}.{{ $.Release.Namespace }}.svc.{{ . }}{{ end }}
{{- end }}
{{- /* The scheduler and the module repository read one config file; a change restarts both (upstream's checksum). */}}
{{- define "exa.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.prometheus.port | quote }}
{{- with .Values.exafunction.annotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- /* 1.1.1 replaced scheduler.cpuLimit (and the module repository's fixed resources) with *.resources. */}}
{{- define "exa.resourcesFromValues" -}}{{ semverCompare ">=1.1.1" .Chart.Version }}{{- end }}
