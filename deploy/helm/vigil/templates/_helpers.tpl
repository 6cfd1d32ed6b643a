{{- define "vigil.name" -}}{{ .Release.Name }}{{- end }}

{{- define "vigil.labels" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: vigil
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}

{{/* deploy/rbac/clusterrole.yaml, the one source of the agent's permissions */}}
{{- define "vigil.clusterRoleSource" -}}
{{- $role := .Files.Get "files/clusterrole.yaml" | fromYaml }}
{{- if not $role.rules }}{{ fail "files/clusterrole.yaml (a link to deploy/rbac/clusterrole.yaml) is missing or has no rules" }}{{ end }}
{{- toYaml $role }}
{{- end }}

{{- define "vigil.secretName" -}}
{{- .Values.notifications.existingSecret | default (printf "%s-notifications" .Release.Name) }}
{{- end }}
