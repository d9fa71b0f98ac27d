{{- define "cs.labels" -}}
app.kubernetes.io/part-of: codescoring
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}
{{- define "cs.image" -}}{{ .root.Values.codescoring.imageRegistry }}/{{ .name }}:{{ .root.Chart.AppVersion }}{{- end }}

{{- /* Claim name of a volume: the pre-created claim when one is given. */ -}}
{{- define "cs.claimName" -}}
{{- $claim := index .v (.claimKey | default "existingClaim") | default "" }}
{{- $claim | default .name }}
{{- end }}

{{- /* PV (local mode) and PVC for one volume, in the mode its values choose (the schema allows one). */ -}}
{{- define "cs.volume" -}}
{{- $v := .v }}
{{- $claimKey := .claimKey | default "existingClaim" }}
{{- if not (index $v $claimKey) }}
{{- $local := and $v.localVolume $v.localVolume.enabled }}
{{- if $local }}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: {{ .root.Release.Namespace }}-{{ .name }}
  labels:
    {{- include "cs.labels" .root | nindent 4 }}
spec:
  capacity:
    storage: {{ $v.size }}
  accessModes: {{ toJson $v.accessModes }}
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  local:
    path: {{ $v.localVolume.path }}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/hostname
              operator: In
              values: [{{ $v.localVolume.nodeHostname | quote }}]
{{- end }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "cs.labels" .root | nindent 4 }}
spec:
  accessModes: {{ toJson $v.accessModes }}
  {{- if $local }}
  storageClassName: ""
  volumeName: {{ .root.Release.Namespace }}-{{ .name }}
  {{- else if $v.volumeName }}
  storageClassName: ""
  volumeName: {{ $v.volumeName }}
  {{- else if $v.storageClass }}
  storageClassName: {{ $v.storageClass }}
  {{- end }}
  resources:
    requests:
      storage: {{ $v.size }}
{{- end }}
{{- end }}

{{- define "cs.waitFor" -}}
- name: wait-for-{{ .target }}
  image: busybox:1.36
  command: ["sh", "-c", "until nc -z {{ .target }} {{ .port }}; do sleep 2; done"]
  {{- with .root.Values.codescoring.initContainers }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
