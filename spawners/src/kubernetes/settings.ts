// spawner.kubernetes: its settings, validated at the hub's start and described in docs/config.md.
// The Kubernetes pieces given as they are (containers, tolerations, affinity, volume sources) are
// checked against the Kubernetes object schemas here, so a typo fails the start naming its key.
import { z } from 'zod'
import { profilesSchema } from '../profiles'
import { nameTemplateProblem } from '../object-names'
import { objectProblems } from './object-schema'

/** A raw Kubernetes value of model `type` (V1Toleration, V1Affinity, ...), checked against its schema. */
const kubeObject = (type: string) =>
  z.record(z.string(), z.unknown()).superRefine((v, ctx) => {
    for (const p of objectProblems(v, type)) ctx.addIssue({ code: 'custom', message: `${type}${p}` })
  })

const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/
const quantity = z.string().regex(QUANTITY, 'expected a Kubernetes quantity such as 500m, 2, 1Gi, 512Mi')
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const dnsLabel = z.string().regex(DNS_LABEL, 'expected a DNS label: a-z 0-9 -, up to 63 characters')
/** Label and annotation keys: an optional DNS prefix and a name (Kubernetes' qualified names). */
const QUALIFIED = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/
const template = z.string().superRefine((t, ctx) => {
  const problem = nameTemplateProblem(t)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})
const id = z.number().int().min(0).max(2_147_483_647)
const seconds = (max: number) => z.number().int().min(1).max(max)

const extraVolume = z.strictObject({
  name: dnsLabel.describe("The volume's name in the pod."),
  mountPath: z.string().startsWith('/').describe('Where it is mounted in the server container (read-only).'),
  source: kubeObject('V1Volume').describe(
    'A Kubernetes volume source without its name, such as `{persistentVolumeClaim: {claimName: shared}}` or `{configMap: {name: x}}`.',
  ),
})

/** What a profile may change of a user's pod: the image, limits, variables, volumes and placement. */
const overridable = {
  image: z.string().min(1).max(1000).describe('The server image.'),
  cpuLimit: quantity.optional().describe('CPU limit (limits.cpu), e.g. 2 or 500m; unset: none.'),
  cpuGuarantee: quantity.optional().describe('CPU request (requests.cpu); unset: none.'),
  memoryLimit: quantity.optional().describe('Memory limit (limits.memory), e.g. 2Gi; unset: none.'),
  memoryGuarantee: quantity.optional().describe('Memory request (requests.memory); unset: none.'),
  gpus: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(0)
    .describe('GPUs per server, as the extended resource gpuResource (limits and requests). Range 0-64.'),
  gpuResource: z
    .string()
    .regex(QUALIFIED, 'expected a resource name such as nvidia.com/gpu')
    .default('nvidia.com/gpu')
    .describe('The extended resource GPUs are counted in.'),
  env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables of the server.'),
  nodeSelector: z
    .record(z.string().regex(QUALIFIED), z.string().regex(LABEL_VALUE))
    .default({})
    .describe('Node labels the pod must be scheduled on (spec.nodeSelector).'),
  tolerations: z
    .array(kubeObject('V1Toleration'))
    .max(100)
    .default([])
    .describe('spec.tolerations, as Kubernetes writes them.'),
  affinity: kubeObject('V1Affinity').optional().describe('spec.affinity, as Kubernetes writes it.'),
  extraVolumes: z
    .array(extraVolume)
    .max(50)
    .default([])
    .describe('Extra volumes mounted read-only in the server container (shared data, datasets).'),
}

const profileOverrides = z.object({
  image: overridable.image,
  cpuLimit: quantity,
  cpuGuarantee: quantity,
  memoryLimit: quantity,
  memoryGuarantee: quantity,
  gpus: overridable.gpus.unwrap(),
  env: z.record(z.string(), z.string()),
  nodeSelector: z.record(z.string().regex(QUALIFIED), z.string().regex(LABEL_VALUE)),
  tolerations: z.array(kubeObject('V1Toleration')).max(100),
  affinity: kubeObject('V1Affinity'),
  extraVolumes: z.array(extraVolume).max(50),
})
export type KubernetesOverrides = z.output<typeof profileOverrides>

export const kubernetesSettings = z
  .strictObject({
    namespace: dnsLabel.default('default').describe("The namespace users' pods and claims are made in."),
    kubeconfig: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Path of a kubeconfig file for the API server. Unset: in-cluster (the service account of the hub's own pod) when KUBERNETES_SERVICE_HOST is set, else $KUBECONFIG or ~/.kube/config.",
      ),
    context: z.string().min(1).optional().describe("The kubeconfig's context to use; unset: its current context."),
    ...overridable,
    image: overridable.image.default('quay.io/jupyter/base-notebook:latest'),
    imagePullPolicy: z
      .enum(['IfNotPresent', 'Always', 'Never'])
      .default('IfNotPresent')
      .describe("The server container's imagePullPolicy."),
    imagePullSecrets: z
      .array(dnsLabel)
      .max(20)
      .default([])
      .describe('Names of Secrets in the namespace used to pull the image (spec.imagePullSecrets).'),
    cmd: z
      .array(z.string().min(1))
      .min(1)
      .default(['jupyterhub-singleuser'])
      .describe(
        "The server container's command. It gets JupyterHub's environment (JUPYTERHUB_SERVICE_URL with ip and port, JUPYTERHUB_API_TOKEN, …) and POD_IP (the pod's address, from the downward API); $(VAR) in cmd and args is expanded by Kubernetes.",
      ),
    args: z.array(z.string()).default([]).describe("The server container's args."),
    ip: z
      .string()
      .default('0.0.0.0')
      .describe(
        'The address the server binds to inside its pod (in JUPYTERHUB_SERVICE_URL); the proxy reaches it at the pod IP.',
      ),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(8888)
      .describe('The port the server listens on in its pod. Range 1-65535.'),
    podNameTemplate: template
      .default('jupyter-{username}-{servername}')
      .describe(
        "Pod names: {username} and {servername} escaped (a-z 0-9 kept, other bytes as -XX), '-{servername}' dropped for the default server, cut to 63 characters with a hash.",
      ),
    homeDir: z
      .string()
      .startsWith('/')
      .default('/home/jovyan')
      .describe("Where the user's claim is mounted: the server's home."),
    storage: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            "A PersistentVolumeClaim per user, mounted at homeDir; false: no home volume (the pod's own disk, lost at stop).",
          ),
        pvcNameTemplate: template.default('claim-{username}').describe('Claim names, as podNameTemplate.'),
        storageClass: z
          .string()
          .min(1)
          .optional()
          .describe("The claim's storageClassName; unset: the cluster's default class."),
        capacity: quantity.default('10Gi').describe('The storage each claim requests.'),
        accessModes: z
          .array(z.enum(['ReadWriteOnce', 'ReadWriteOncePod', 'ReadOnlyMany', 'ReadWriteMany']))
          .min(1)
          .max(4)
          .default(['ReadWriteOnce'])
          .describe("The claim's access modes."),
      })
      .prefault({})
      .describe("Users' persistent homes: a claim is made at a user's first start and kept when servers stop."),
    serviceAccount: dnsLabel.optional().describe("The pod's service account; unset: the namespace's default account."),
    automountServiceAccountToken: z
      .boolean()
      .default(false)
      .describe("Mount the service account's API token in the pod. Off: servers cannot talk to the Kubernetes API."),
    securityContext: z
      .strictObject({
        runAsUser: id
          .default(1000)
          .describe('uid the server runs as (docker-stacks: 1000). Range 0-2147483647; 0 needs runAsNonRoot false.'),
        runAsGroup: id.default(100).describe('gid the server runs as (docker-stacks: 100).'),
        fsGroup: id.default(100).describe('Group that owns mounted volumes (so the home claim is writable).'),
        runAsNonRoot: z.boolean().default(true).describe('Refuse to start a container as uid 0.'),
        allowPrivilegeEscalation: z
          .boolean()
          .default(false)
          .describe('Whether processes may gain privileges (setuid, sudo).'),
        readOnlyRootFilesystem: z
          .boolean()
          .default(false)
          .describe("Mount the container's root file system read-only."),
      })
      .prefault({})
      .refine((s) => !(s.runAsNonRoot && s.runAsUser === 0), 'runAsUser 0 with runAsNonRoot: the pod would never start')
      .describe("The server container's security context; all capabilities are dropped."),
    extraLabels: z
      .record(
        z.string().regex(QUALIFIED, 'expected a label key'),
        z.string().regex(LABEL_VALUE, 'expected a label value'),
      )
      .default({})
      .describe("Labels added to users' pods (the hub's own labels win)."),
    extraAnnotations: z
      .record(z.string().regex(QUALIFIED, 'expected an annotation key'), z.string().max(65536))
      .default({})
      .describe("Annotations added to users' pods."),
    extraContainers: z
      .array(kubeObject('V1Container'))
      .max(20)
      .default([])
      .describe('Sidecar containers of every pod, as Kubernetes writes them.'),
    initContainers: z
      .array(kubeObject('V1Container'))
      .max(20)
      .default([])
      .describe('Init containers of every pod, as Kubernetes writes them.'),
    unschedulableTimeoutSeconds: seconds(86_400)
      .default(300)
      .describe(
        "How long a pod may stay unschedulable (no node fits it) before its start fails with the scheduler's message. Range 1-86400; the hub's startTimeoutSec bounds it too.",
      ),
    deleteTimeoutSeconds: seconds(3600)
      .default(60)
      .describe('How long a stop waits, after the grace period, for the pod to be gone. Range 1-3600.'),
    informer: z
      .strictObject({
        resyncSeconds: seconds(86_400)
          .default(300)
          .describe('Every so often the pods are listed again in full. Range 1-86400.'),
        watchTimeoutSeconds: seconds(3600)
          .default(300)
          .describe('The API server ends each watch after this long, and a new one starts. Range 1-3600.'),
        watchQuietSeconds: seconds(3600)
          .default(120)
          .describe(
            'A watch that brings no event and no bookmark for this long is taken as stalled: it is ended, the pods are listed again and a new watch starts. Range 1-3600.',
          ),
      })
      .prefault({})
      .describe('The one watch per kind (pods, events) shared by every server.'),
    profiles: profilesSchema(profileOverrides).describe(
      "Choices on the spawn page (KubeSpawner's profile_list): each `{slug, displayName, description, default, groups, overrides, options}`, where overrides may set image, cpuLimit, cpuGuarantee, memoryLimit, memoryGuarantee, gpus, env, nodeSelector, tolerations, affinity and extraVolumes. A profile or choice not offered to the user is refused (400 naming the field).",
    ),
  })
  .describe('The kubernetes spawner: each server is a pod in a Kubernetes cluster.')
  .prefault({})

export type KubernetesSettings = z.output<typeof kubernetesSettings>
