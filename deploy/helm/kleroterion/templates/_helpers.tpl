{{/*
Expand the name of the chart.
*/}}
{{- define "kleroterion.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "kleroterion.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "kleroterion.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "kleroterion.labels" -}}
helm.sh/chart: {{ include "kleroterion.chart" . }}
{{ include "kleroterion.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kleroterion
kleroterion.dk/region: {{ .Values.region | quote }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "kleroterion.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kleroterion.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "kleroterion.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kleroterion.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ---- kleroterion's own helpers; each takes (dict "root" $ "svc" NAME ...) ---- */}}

{{/* Name of one service's objects: <fullname>-<service>. */}}
{{- define "kleroterion.serviceName" -}}
{{- printf "%s-%s" (include "kleroterion.fullname" .root) .svc | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of one service's objects (the scaffold's labels plus the component). */}}
{{- define "kleroterion.serviceLabels" -}}
{{ include "kleroterion.labels" .root }}
app.kubernetes.io/component: {{ .svc }}
{{- end }}

{{- define "kleroterion.serviceSelectorLabels" -}}
{{ include "kleroterion.selectorLabels" .root }}
app.kubernetes.io/component: {{ .svc }}
{{- end }}

{{/* The ConfigMap that holds region.toml. `kleroterion ops plugins` finds it by label. */}}
{{- define "kleroterion.regionConfigName" -}}
{{- printf "%s-region" (include "kleroterion.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kleroterion.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Every topic of the release, one per line: an event topic per event type by the rule
<prefix>.<owning service>.<event type>, then a dead-letter topic per consumer group,
<prefix>.dead-letter.<group>. tests/deploy checks the event list against the protobuf.
*/}}
{{- define "kleroterion.topics" -}}
{{- $prefix := .Values.kafka.topicPrefix }}
{{- range $owner := keys .Values.topics.events | sortAlpha }}
{{- range $type := index $.Values.topics.events $owner }}
{{ printf "%s.%s.%s" $prefix $owner $type }}
{{- end }}
{{- end }}
{{- range $group := .Values.topics.deadLetterGroups }}
{{ printf "%s.dead-letter.%s" $prefix $group }}
{{- end }}
{{- end }}

{{/*
Checks that no template can express in the schema because they compare two values.
A consumer group cannot use more members than its topics have partitions, so an HPA
allowed to grow past the partition count only adds idle pods.
*/}}
{{- define "kleroterion.validate" -}}
{{- range $svc, $cfg := .Values.services }}
{{- if and $cfg.enabled $cfg.autoscaling.enabled }}
{{- if gt (int $cfg.autoscaling.maxReplicas) (int $.Values.kafka.partitions) }}
{{- fail (printf "services.%s.autoscaling.maxReplicas (%d) must not exceed kafka.partitions (%d): consumers scale by Kafka partitions, extra replicas would sit idle" $svc (int $cfg.autoscaling.maxReplicas) (int $.Values.kafka.partitions)) }}
{{- end }}
{{- if gt (int $cfg.autoscaling.minReplicas) (int $cfg.autoscaling.maxReplicas) }}
{{- fail (printf "services.%s.autoscaling.minReplicas (%d) must not exceed services.%s.autoscaling.maxReplicas (%d)" $svc (int $cfg.autoscaling.minReplicas) $svc (int $cfg.autoscaling.maxReplicas)) }}
{{- end }}
{{- end }}
{{- end }}
{{- range $name := .Values.plugins.channelOrder }}
{{- if not (has $name $.Values.plugins.enabled) }}
{{- fail (printf "plugins.channelOrder: %q is not in plugins.enabled (%s)" $name (join ", " $.Values.plugins.enabled)) }}
{{- end }}
{{- end }}
{{- range $name, $_ := .Values.plugins.settings }}
{{- if not (has $name $.Values.plugins.enabled) }}
{{- fail (printf "plugins.settings.%s: plugin %q is not in plugins.enabled (%s)" $name $name (join ", " $.Values.plugins.enabled)) }}
{{- end }}
{{- end }}
{{- end }}

{{/* A TOML value from a scalar or a list of scalars (the schema allows nothing deeper). */}}
{{- define "kleroterion.tomlValue" -}}
{{- if kindIs "slice" . }}[{{ range $i, $v := . }}{{ if $i }}, {{ end }}{{ include "kleroterion.tomlValue" $v }}{{ end }}]
{{- else if kindIs "string" . }}{{ toJson . }}
{{- else if kindIs "bool" . }}{{ . }}
{{- else if kindIs "float64" . }}{{ if eq . (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else }}{{ toJson . }}
{{- end }}
{{- end }}

{{/* Environment shared by every kleroterion container (services and the topics Job). */}}
{{- define "kleroterion.kafkaEnv" -}}
- name: KLERO_REGION
  value: {{ .Values.region | quote }}
- name: KLERO_BUS
  value: kafka
- name: KLERO_KAFKA_BOOTSTRAP
  value: {{ join "," .Values.kafka.bootstrapServers | quote }}
- name: KLERO_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- if .Values.kafka.sasl.enabled }}
- name: KLERO_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: KLERO_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.username.name | quote }}
      key: {{ .Values.kafka.sasl.username.key | quote }}
- name: KLERO_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.password.name | quote }}
      key: {{ .Values.kafka.sasl.password.key | quote }}
{{- end }}
{{- if .Values.kafka.tls.enabled }}
- name: KLERO_KAFKA_SSL_CAFILE
  value: {{ printf "/etc/kleroterion-kafka-ca/%s" .Values.kafka.tls.caSecret.key | quote }}
{{- end }}
- name: KLERO_TOPIC_PREFIX
  value: {{ .Values.kafka.topicPrefix | quote }}
- name: KLERO_TOPIC_PARTITIONS
  value: {{ .Values.kafka.partitions | quote }}
- name: KLERO_LOG_FORMAT
  value: {{ .Values.logFormat | quote }}
- name: KLERO_DATA_DIR
  value: /var/lib/kleroterion
- name: MPLCONFIGDIR
  value: /tmp/matplotlib
{{- end }}

{{- define "kleroterion.kafkaCaVolume" -}}
{{- if .Values.kafka.tls.enabled }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret.name | quote }}
    items:
      - key: {{ .Values.kafka.tls.caSecret.key | quote }}
        path: {{ .Values.kafka.tls.caSecret.key | quote }}
{{- end }}
{{- end }}

{{- define "kleroterion.kafkaCaMount" -}}
{{- if .Values.kafka.tls.enabled }}
- name: kafka-ca
  mountPath: /etc/kleroterion-kafka-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* region.toml, the file RegionConfig.load reads (services/common/plugins.py). */}}
{{- define "kleroterion.regionToml" -}}
# Rendered by Helm from the release's values; `kleroterion ops plugins` may edit it live.
region = {{ .Values.region | toJson }}
enabled_plugins = {{ include "kleroterion.tomlValue" .Values.plugins.enabled }}
channel_order = {{ include "kleroterion.tomlValue" .Values.plugins.channelOrder }}
{{- range $plugin, $settings := .Values.plugins.settings }}

[plugins.{{ $plugin }}]
{{- range $key, $value := $settings }}
{{ $key }} = {{ include "kleroterion.tomlValue" $value }}
{{- end }}
{{- end }}
{{- end }}
