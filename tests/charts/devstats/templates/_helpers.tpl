{{- /* A value from values, else from secrets/NAME.secret in the chart directory (upstream behaviour). */ -}}
{{- define "ds.secretValue" -}}
{{- $v := index .root.Values .key }}
{{- if $v }}{{ $v }}{{ else }}{{ .root.Files.Get (printf "secrets/%s.secret" .file) }}{{ end }}
{{- end }}
{{- define "ds.inRange" -}}
{{- if and (ge (int .i) (int .from)) (lt (int .i) (int .to)) }}true{{ end }}
{{- end }}
{{- define "ds.checkRange" -}}
{{- if gt (int (index .root.Values (printf "index%sFrom" .name))) (int (index .root.Values (printf "index%sTo" .name))) }}
{{- fail (printf "index%sFrom must not be greater than index%sTo" .name .name) }}
{{- end }}
{{- end }}
{{- define "ds.pgEnv" -}}
{{- $s := .Values.pgSecret }}
{{- range $k := list "PG_HOST" "PG_PASS" "PG_PASS_RO" "PG_PASS_TEAM" "PG_ADMIN_USER" }}
- name: {{ $k }}
  valueFrom: {secretKeyRef: {name: {{ $s }}, key: {{ $k }}.secret}}
{{- end }}
- name: PG_PORT
  value: "5432"
{{- end }}
{{- define "ds.ghEnv" -}}
- name: GHA2DB_GITHUB_OAUTH
  valueFrom: {secretKeyRef: {name: {{ .Values.oauthSecret }}, key: GHA2DB_GITHUB_OAUTH.secret}}
{{- end }}
{{- define "ds.nodeSelector" -}}
{{- with . }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
