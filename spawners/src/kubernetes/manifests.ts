// What the kubernetes spawner asks the API server for: a user's pod (one container running the
// server, with JupyterHub's environment, its limits, its home claim and read-only extra volumes,
// non-root and without privilege escalation) and a user's home claim.
import type * as k8s from '@kubernetes/client-node'
import type { KubernetesOverrides, KubernetesSettings } from './settings'
import { ANNOTATION_USER, LABEL_USER, podAnnotations, podLabels, type PodOwner } from './labels'

export const SERVER_CONTAINER = 'notebook'
const HOME_VOLUME = 'home'

/** The settings a start uses: the spawner's, with the chosen profile's overrides over them. */
export type PodSettings = KubernetesSettings & Partial<KubernetesOverrides>

export function withOverrides(settings: KubernetesSettings, overrides: Partial<KubernetesOverrides>): PodSettings {
  return {
    ...settings,
    ...overrides,
    env: { ...settings.env, ...overrides.env },
  }
}

function resources(s: PodSettings): k8s.V1ResourceRequirements {
  const limits: Record<string, string> = {}
  const requests: Record<string, string> = {}
  if (s.cpuLimit) limits.cpu = s.cpuLimit
  if (s.memoryLimit) limits.memory = s.memoryLimit
  if (s.cpuGuarantee) requests.cpu = s.cpuGuarantee
  if (s.memoryGuarantee) requests.memory = s.memoryGuarantee
  if (s.gpus > 0) limits[s.gpuResource] = requests[s.gpuResource] = String(s.gpus)
  return { limits, requests }
}

export function podManifest(
  s: PodSettings,
  p: { name: string; claim?: string; owner: PodOwner; env: Record<string, string> },
): k8s.V1Pod {
  const sc = s.securityContext
  const mounts: k8s.V1VolumeMount[] = []
  const volumes: k8s.V1Volume[] = []
  if (p.claim) {
    volumes.push({ name: HOME_VOLUME, persistentVolumeClaim: { claimName: p.claim } })
    mounts.push({ name: HOME_VOLUME, mountPath: s.homeDir })
  }
  for (const v of s.extraVolumes) {
    volumes.push({ ...(v.source as unknown as k8s.V1Volume), name: v.name })
    mounts.push({ name: v.name, mountPath: v.mountPath, readOnly: true })
  }
  const env: k8s.V1EnvVar[] = [
    ...Object.entries(p.env).map(([name, value]) => ({ name, value })),
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
  ]
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      labels: { ...s.extraLabels, ...podLabels(p.owner) },
      annotations: { ...s.extraAnnotations, ...podAnnotations(p.owner) },
    },
    spec: {
      restartPolicy: 'Never', // a server that exits is stopped, as a local process is
      enableServiceLinks: false, // no variables naming the namespace's services (the hub's, Redis)
      automountServiceAccountToken: s.automountServiceAccountToken,
      ...(s.serviceAccount ? { serviceAccountName: s.serviceAccount } : {}),
      securityContext: {
        runAsUser: sc.runAsUser,
        runAsGroup: sc.runAsGroup,
        fsGroup: sc.fsGroup,
        runAsNonRoot: sc.runAsNonRoot,
      },
      ...(s.imagePullSecrets.length ? { imagePullSecrets: s.imagePullSecrets.map((name) => ({ name })) } : {}),
      ...(Object.keys(s.nodeSelector).length ? { nodeSelector: s.nodeSelector } : {}),
      ...(s.tolerations.length ? { tolerations: s.tolerations as k8s.V1Toleration[] } : {}),
      ...(s.affinity ? { affinity: s.affinity as k8s.V1Affinity } : {}),
      ...(s.initContainers.length ? { initContainers: s.initContainers as unknown as k8s.V1Container[] } : {}),
      containers: [
        {
          name: SERVER_CONTAINER,
          image: s.image,
          imagePullPolicy: s.imagePullPolicy,
          command: s.cmd,
          args: s.args,
          env,
          ports: [{ name: 'notebook-port', containerPort: s.port, protocol: 'TCP' }],
          resources: resources(s),
          volumeMounts: mounts,
          securityContext: {
            allowPrivilegeEscalation: sc.allowPrivilegeEscalation,
            readOnlyRootFilesystem: sc.readOnlyRootFilesystem,
            runAsNonRoot: sc.runAsNonRoot,
            capabilities: { drop: ['ALL'] },
          },
        },
        ...(s.extraContainers as unknown as k8s.V1Container[]),
      ],
      volumes,
    },
  }
}

export function claimManifest(s: KubernetesSettings, name: string, owner: PodOwner): k8s.V1PersistentVolumeClaim {
  const labels = podLabels(owner)
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      labels: {
        app: 'jupyterhub',
        component: 'singleuser-storage',
        heritage: 'jupyterhub',
        [LABEL_USER]: labels[LABEL_USER],
      },
      annotations: { [ANNOTATION_USER]: owner.user },
    },
    spec: {
      accessModes: s.storage.accessModes,
      resources: { requests: { storage: s.storage.capacity } },
      ...(s.storage.storageClass ? { storageClassName: s.storage.storageClass } : {}),
    },
  }
}
