{{/* Names, labels and image references shared by the templates. */}}

{{- define "sfprompt.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the chart name, prefixed by the release name unless it already holds it. */}}
{{- define "sfprompt.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sfprompt.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sfprompt-operator
{{- end -}}

{{- define "sfprompt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The selector labels as k=v,... for the operator's --leader-pod-selector (sorted by key). */}}
{{- define "sfprompt.selectorString" -}}
{{- $parts := list -}}
{{- range $k, $v := include "sfprompt.selectorLabels" . | fromYaml -}}
{{- $parts = append $parts (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $parts -}}
{{- end -}}

{{/* The Service of the leader alone: its pod carries this label while it holds the Lease (ADR 0023, amendment 3). */}}
{{- define "sfprompt.leaderServiceName" -}}
{{- printf "%s-leader" (include "sfprompt.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfprompt.natsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end -}}

{{- define "sfprompt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sfprompt.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* <registry>/<repository>:<tag>, the tag defaulting to the chart's appVersion. Call with (list . .Values.image). */}}
{{- define "sfprompt.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- $tag := default $root.Chart.AppVersion $img.tag -}}
{{- if $img.registry -}}
{{- printf "%s/%s:%s" $img.registry $img.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $img.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "sfprompt.webhookServiceName" -}}
{{- printf "%s-webhook" (include "sfprompt.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sfprompt.webhookSecretName" -}}
{{- default (printf "%s-webhook-cert" (include "sfprompt.fullname" .)) .Values.webhook.certs.secretName -}}
{{- end -}}

{{- define "sfprompt.validatingName" -}}
{{- printf "%s-validating" (include "sfprompt.fullname" .) -}}
{{- end -}}

{{- define "sfprompt.mutatingName" -}}
{{- printf "%s-mutating" (include "sfprompt.fullname" .) -}}
{{- end -}}

{{- define "sfprompt.natsName" -}}
{{- printf "%s-nats" (include "sfprompt.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The NATS URL the jobs use: the bundled server's Service, or nats.url. */}}
{{- define "sfprompt.natsUrl" -}}
{{- if .Values.nats.bundled -}}
{{- printf "nats://%s.%s.svc:4222" (include "sfprompt.natsName" .) .Release.Namespace -}}
{{- else -}}
{{- required "nats.url is required when nats.bundled is false" .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{/* Namespaces that get a Role for jobs: the watched ones, or none (then a ClusterRole). */}}
{{- define "sfprompt.clusterWide" -}}
{{- if eq (len .Values.operator.watchNamespaces) 0 -}}true{{- end -}}
{{- end -}}

{{/* A webhook clientConfig for the webhook Service; call with (list . "/path"). */}}
{{- define "sfprompt.webhookClient" -}}
{{- $root := index . 0 -}}
service:
  name: {{ include "sfprompt.webhookServiceName" $root }}
  namespace: {{ $root.Release.Namespace }}
  path: {{ index . 1 }}
  port: 443
{{- with $root.Values.webhook.certs.caBundle }}
caBundle: {{ . }}
{{- end }}
{{- end -}}
{{- define "sfprompt.webhookCommon" -}}
admissionReviewVersions: ["v1"]
sideEffects: None
failurePolicy: {{ .Values.webhook.failurePolicy }}
timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}
matchPolicy: Equivalent
rules:
  - apiGroups: ["sfprompt.io"]
    apiVersions: ["v1alpha1"]
    operations: ["CREATE", "UPDATE"]
    resources: ["sfpromptjobs"]
    scope: Namespaced
# Updates that leave the spec alone (finalizers, labels, deletion) never reach the webhook, so a
# job stays editable and deletable while no operator pod serves it (failurePolicy Fail).
matchConditions:
  - name: creates-or-spec-changes
    expression: "request.operation == 'CREATE' || !has(object.spec) || !has(oldObject.spec) || object.spec != oldObject.spec"
  - name: not-being-deleted
    expression: "!has(object.metadata.deletionTimestamp)"
{{- with .Values.operator.watchNamespaces }}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: In
      values:
        {{- toYaml . | nindent 8 }}
{{- end }}
{{- end -}}
