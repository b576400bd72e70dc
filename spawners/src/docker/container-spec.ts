// What the engine is asked to create for one server: the container's command, environment, labels,
// mounts, limits and confinement. A pure function of the settings and the start request.
import type Docker from 'dockerode'
import { parseBytes, type DockerVolume } from './settings'

/** The labels on every container the hub makes: how list() finds them again, with their place. */
export const LABELS = {
  hubId: 'org.jupyter.edgehub.hub-id',
  user: 'org.jupyter.edgehub.user',
  server: 'org.jupyter.edgehub.server',
  baseUrl: 'org.jupyter.edgehub.base-url',
  port: 'org.jupyter.edgehub.port',
  ip: 'org.jupyter.edgehub.ip',
} as const

export interface ContainerPlan {
  name: string
  image: string
  /** Placeholders filled already; undefined: the image's CMD. */
  cmd?: string[]
  env: Record<string, string>
  labels: Record<string, string>
  user?: string
  network: string
  /** The home volume's name; undefined: none. */
  homeVolume?: string
  notebookDir: string
  volumes: DockerVolume[]
  cpuLimit?: number
  memLimit?: string
}

/** A shared volume's source: an absolute path is a bind mount of the host's, anything else a named volume. */
const mountOf = (v: DockerVolume) => ({
  Type: (v.source.startsWith('/') ? 'bind' : 'volume') as 'bind' | 'volume',
  Source: v.source,
  Target: v.target,
  ReadOnly: v.readOnly,
})

export function containerSpec(plan: ContainerPlan): Docker.ContainerCreateOptions {
  const memory = plan.memLimit ? parseBytes(plan.memLimit) : undefined
  return {
    name: plan.name,
    Image: plan.image,
    ...(plan.cmd ? { Cmd: plan.cmd } : {}),
    Env: Object.entries(plan.env).map(([k, v]) => `${k}=${v}`),
    Labels: plan.labels,
    ...(plan.user ? { User: plan.user } : {}),
    WorkingDir: plan.notebookDir,
    HostConfig: {
      NetworkMode: plan.network,
      Mounts: [
        ...(plan.homeVolume ? [{ Type: 'volume' as const, Source: plan.homeVolume, Target: plan.notebookDir }] : []),
        ...plan.volumes.map(mountOf),
      ],
      ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
      ...(plan.cpuLimit ? { NanoCpus: Math.round(plan.cpuLimit * 1e9) } : {}),
      // confinement: no privileges, no capabilities beyond Docker's defaults, no setuid gains
      Privileged: false,
      CapAdd: [],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
    },
  }
}

/** Whether a container's user is root: its `user` setting, else the image's USER (empty is root). */
export function runsAsRoot(user: string): boolean {
  const name = user.split(':')[0] ?? ''
  return name === '' || name === 'root' || name === '0'
}
