{{- define "exa.name" -}}{{ printf "exafunction-%s%s" .component .root.Values.exafunction.suffix }}{{- end }}
{{- define "exa.labels" -}}
app.kubernetes.io/name: exadeploy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
{{- define "exa.serviceAccount" -}}
{{- if .Values.serviceAccount.create }}{{ default (printf "exafunction%s" .Values.exafunction.suffix) .Values.serviceAccount.name }}
{{- else }}{{ default "default" .Values.serviceAccount.name }}{{ end }}
{{- end }}
{{- define "exa.apiKeyEnv" -}}
- name: EXAFUNCTION_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "exafunction.apiKeySecret.name is required: the Secret holding the Exafunction API key" .Values.exafunction.apiKeySecret.name }}
      key: {{ .Values.exafunction.apiKeySecret.key }}
{{- end }}
