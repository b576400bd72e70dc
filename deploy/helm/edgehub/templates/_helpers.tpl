{{/* Names and labels shared by every template. */}}
{{- define "edgehub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "edgehub.name" -}}
{{- printf "%s-%s" (include "edgehub.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: {root, component} */}}
{{- define "edgehub.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "edgehub.labels" -}}
{{ include "edgehub.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "edgehub.usersNamespace" -}}
{{- .Values.singleuser.namespace | default .Release.Namespace -}}
{{- end -}}

{{- define "edgehub.hubServiceAccount" -}}
{{- .Values.hub.serviceAccount.name | default (include "edgehub.name" (dict "root" . "component" "hub")) -}}
{{- end -}}

{{- define "edgehub.redisSecret" -}}
{{- if .Values.redis.enabled -}}
{{- .Values.redis.auth.existingSecret | default (include "edgehub.name" (dict "root" . "component" "redis")) -}}
{{- else -}}
{{- required "redis.external.existingSecret is required when redis.enabled is false" .Values.redis.external.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* The in-cluster Redis: headless Service and the DNS name of pod i. */}}
{{- define "edgehub.redisHeadless" -}}
{{- printf "%s-headless" (include "edgehub.name" (dict "root" . "component" "redis")) -}}
{{- end -}}

{{/* Node placement of a core part: {root, part} where part is hub, proxy or redis */}}
{{- define "edgehub.corePlacement" -}}
{{- $part := index .root.Values .part -}}
{{- $sched := .root.Values.scheduling.corePods -}}
{{- with ($part.nodeSelector | default $sched.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($part.tolerations | default $sched.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $part.affinity }}
affinity:
  {{- toYaml $part.affinity | nindent 2 }}
{{- else }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "edgehub.selectorLabels" (dict "root" .root "component" .part) | nindent 14 }}
{{- end }}
{{- end -}}

{{/* imagePullSecrets of a part's image */}}
{{- define "edgehub.pullSecrets" -}}
{{- with .pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* edgehub.yaml: the chart's settings, with .Values.config merged over them */}}
{{- define "edgehub.config" -}}
{{- $hubSvc := include "edgehub.name" (dict "root" . "component" "hub") -}}
{{- $redis := dict -}}
{{- if .Values.redis.enabled -}}
{{- $hosts := list -}}
{{- range $i, $_ := until (int .Values.redis.replicas) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s.%s.svc:26379" (include "edgehub.name" (dict "root" $ "component" "redis")) $i (include "edgehub.redisHeadless" $) $.Release.Namespace) -}}
{{- end -}}
{{- $redis = dict "url" (printf "redis://edgehub-hub@%s/0" .Values.redis.masterName) "passwordFile" "/etc/edgehub/redis/hub-password" "sentinel" (dict "hosts" $hosts "masterName" .Values.redis.masterName "password" "") -}}
{{- $_ := unset $redis.sentinel "password" -}}
{{- else -}}
{{- $redis = dict "url" (required "redis.external.url is required when redis.enabled is false" .Values.redis.external.url) "passwordFile" "/etc/edgehub/redis/hub-password" -}}
{{- if .Values.redis.external.sentinel.hosts -}}
{{- $_ := set $redis "sentinel" (dict "hosts" .Values.redis.external.sentinel.hosts "masterName" .Values.redis.external.sentinel.masterName) -}}
{{- end -}}
{{- end -}}
{{- $proxy := dict "hubUpstreams" (list (printf "%s:%d" $hubSvc (int .Values.hub.port))) "workers" (ternary "auto" (int .Values.proxy.workers) (eq (toString .Values.proxy.workers) "auto")) "trustedProxies" .Values.proxy.trustedProxies "runDir" "/var/lib/edgehub/proxy" -}}
{{- if or .Values.redis.enabled .Values.redis.external.proxyUsername -}}
{{- $_ := set $proxy "redis" (dict "username" (.Values.redis.external.proxyUsername | default "edgehub-proxy") "passwordFile" "/etc/edgehub/redis/proxy-password") -}}
{{- end -}}
{{- $su := .Values.singleuser -}}
{{- $kube := dict "namespace" (include "edgehub.usersNamespace" .) "image" (printf "%s:%s" $su.image.name $su.image.tag) "imagePullPolicy" $su.image.pullPolicy "imagePullSecrets" $su.image.pullSecrets "cmd" $su.cmd "port" (int $su.port) "nodeSelector" .Values.scheduling.userPods.nodeSelector "tolerations" .Values.scheduling.userPods.tolerations -}}
{{- if $su.cpu.limit }}{{ $_ := set $kube "cpuLimit" (toString $su.cpu.limit) }}{{ end -}}
{{- if $su.cpu.guarantee }}{{ $_ := set $kube "cpuGuarantee" (toString $su.cpu.guarantee) }}{{ end -}}
{{- if $su.memory.limit }}{{ $_ := set $kube "memoryLimit" (toString $su.memory.limit) }}{{ end -}}
{{- if $su.memory.guarantee }}{{ $_ := set $kube "memoryGuarantee" (toString $su.memory.guarantee) }}{{ end -}}
{{- $storage := dict "enabled" (eq $su.storage.type "dynamic") "capacity" (toString $su.storage.capacity) -}}
{{- if $su.storage.storageClass }}{{ $_ := set $storage "storageClass" $su.storage.storageClass }}{{ end -}}
{{- $_ := set $kube "storage" $storage -}}
{{- $kube = mergeOverwrite $kube (deepCopy $su.extraSettings) -}}
{{- $chart := dict "host" "0.0.0.0" "port" (int .Values.proxy.port) "dataDir" "/var/lib/edgehub" "redis" $redis "hub" (dict "host" "0.0.0.0" "port" (int .Values.hub.port)) "proxy" $proxy "spawner" (dict "kind" "kubernetes" "kubernetes" $kube) -}}
{{- $config := mergeOverwrite $chart (deepCopy .Values.config) -}}
{{- $_ := required "config.publicUrl is required: the URL users reach the proxies at (https://hub.example.org)" $config.publicUrl -}}
{{- toYaml $config -}}
{{- end -}}
