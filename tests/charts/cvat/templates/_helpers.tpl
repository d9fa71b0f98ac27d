{{- define "cvat.labels" -}}
helm.sh/chart: {{ .Chart.Name }}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "cvat.selectorLabels" -}}
app.kubernetes.io/name: {{ default .Chart.Name .Values.nameOverride }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "cvat.postgresSecretName" -}}{{ tpl .Values.postgresql.secret.name . }}{{- end }}
{{- define "cvat.sharedBackendEnv" -}}
{{- $pgSecret := include "cvat.postgresSecretName" . }}
{{- if not $pgSecret }}{{ fail "postgresql.secret.name is required: the Secret with database, username and password keys" }}{{ end }}
- name: CVAT_POSTGRES_HOST
  {{- if .Values.postgresql.enabled }}
  value: {{ .Release.Name }}-postgresql
  {{- else }}
  value: {{ required "postgresql.external.host is required when postgresql.enabled is false" .Values.postgresql.external.host | quote }}
  {{- end }}
- name: CVAT_POSTGRES_PORT
  value: {{ (ternary .Values.postgresql.service.ports.postgresql (.Values.postgresql.external.port | default 5432) .Values.postgresql.enabled) | quote }}
- name: CVAT_POSTGRES_USER
  valueFrom: {secretKeyRef: {name: {{ $pgSecret }}, key: username}}
- name: CVAT_POSTGRES_DBNAME
  valueFrom: {secretKeyRef: {name: {{ $pgSecret }}, key: database}}
- name: CVAT_POSTGRES_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ $pgSecret }}, key: password}}
- name: CVAT_REDIS_INMEM_HOST
  value: {{ ternary (printf "%s-redis-master" .Release.Name) (required "redis.external.host is required when redis.enabled is false" .Values.redis.external.host) .Values.redis.enabled | quote }}
- name: CVAT_REDIS_INMEM_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ required "redis.secret.name is required" .Values.redis.secret.name }}, key: password}}
- name: CVAT_REDIS_ONDISK_HOST
  value: {{ ternary (printf "%s-kvrocks" .Release.Name) .Values.cvat.kvrocks.external.host .Values.cvat.kvrocks.enabled | quote }}
- name: CVAT_REDIS_ONDISK_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ required "cvat.kvrocks.secret.name is required" .Values.cvat.kvrocks.secret.name }}, key: password}}
- name: CVAT_ANALYTICS
  value: {{ ternary "1" "0" .Values.analytics.enabled | quote }}
- name: CVAT_NUCLIO_HOST
  value: {{ ternary (printf "%s-nuclio-dashboard" .Release.Name) "" .Values.nuclio.enabled | quote }}
{{- end }}
