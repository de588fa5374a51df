{{/* Names, labels and image references shared by the templates. */}}

{{- define "sfprompt.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's full name, always a DNS-1035 label of at most 63 characters (what a Service name must
be; ADR 0015, amendment 5): fullnameOverride, or the chart name prefixed by the release name unless
it already holds it. A name that is longer, holds dots or starts with a digit (Helm accepts such
release names) is cut to 54 characters, its dots turned into '-' and an `s-` put before a leading
digit, and ends in 8 hex characters of the original's sha256, so that two releases whose names differ
only past the cut, or only in a dot, still get different names.
*/}}
{{- define "sfprompt.fullname" -}}
{{- $raw := .Values.fullnameOverride -}}
{{- if not $raw -}}
{{- $raw = contains .Chart.Name .Release.Name | ternary .Release.Name (printf "%s-%s" .Release.Name .Chart.Name) -}}
{{- end -}}
{{- if and (le (len $raw) 63) (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $raw) -}}
{{- $raw -}}
{{- else -}}
{{- $label := printf "%s%s" (regexMatch "^[a-z]" $raw | ternary "" "s-") (replace "." "-" $raw) -}}
{{- printf "%s-%s" (regexReplaceAll "-+$" ($label | trunc 54) "") (sha256sum $raw | trunc 8) -}}
{{- end -}}
{{- end -}}

{{/*
<fullname>-<suffix> within a length limit: when that is longer, the fullname is cut to leave room
for 8 hex characters of its sha256 and the suffix, so that the suffixes keep a release's objects
apart and the hash two long fullnames that share their start. Call with (list . "suffix" max): max
is 63 for a Service (a DNS-1035 label), 52 for a StatefulSet (its controller-revision-hash label is
<name>-<hash of up to 10 characters>, a label value of at most 63).
*/}}
{{- define "sfprompt.suffixedName" -}}
{{- $full := include "sfprompt.fullname" (index . 0) -}}
{{- $suffix := index . 1 -}}
{{- $max := index . 2 | int -}}
{{- $name := printf "%s-%s" $full $suffix -}}
{{- if le (len $name) $max -}}
{{- $name -}}
{{- else -}}
{{- $keep := sub $max (add (len $suffix) 10) | int -}}
{{- printf "%s-%s-%s" (regexReplaceAll "-+$" ($full | trunc $keep) "") (sha256sum $full | trunc 8) $suffix -}}
{{- end -}}
{{- end -}}

{{/* The Service of every replica, for Prometheus. */}}
{{- define "sfprompt.metricsServiceName" -}}
{{- include "sfprompt.suffixedName" (list . "metrics" 63) -}}
{{- end -}}

{{- define "sfprompt.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sfprompt-operator
{{- end -}}

{{- define "sfprompt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The selector labels as k=v,... for the operator's --leader-pod-selector (sorted by key); the release name is quoted in them, so that fromYaml reads 123 or yes as a string. */}}
{{- define "sfprompt.selectorString" -}}
{{- $parts := list -}}
{{- range $k, $v := include "sfprompt.selectorLabels" . | fromYaml -}}
{{- $parts = append $parts (printf "%s=%s" $k $v) -}}
{{- end -}}
{{- join "," $parts -}}
{{- end -}}

{{/* The Service of the leader alone: its pod carries this label while it holds the Lease (ADR 0023, amendment 3). */}}
{{- define "sfprompt.leaderServiceName" -}}
{{- include "sfprompt.suffixedName" (list . "leader" 63) -}}
{{- end -}}

{{- define "sfprompt.natsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "sfprompt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
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
{{- include "sfprompt.suffixedName" (list . "webhook" 63) -}}
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

{{/* The bundled NATS's ConfigMap, Service and StatefulSet: 52 characters at most, for the StatefulSet. */}}
{{- define "sfprompt.natsName" -}}
{{- include "sfprompt.suffixedName" (list . "nats" 52) -}}
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
