// docker: each server is a container on a Docker engine (dockerode), its user's home a named volume
// that outlives it. The state the hub keeps in Redis (the container's id and name, its address) is
// all any replica needs to poll or stop it; labels on the container (hub id, user, server, place)
// find it again when no record does.
import type Docker from 'dockerode'
import { pickPort } from '../local-process/ports'
import { jupyterhubEnv } from '../jupyterhub-env'
import { objectName } from '../object-names'
import { chooseProfile, profileForm, profileOverrides, type Profile } from '../profiles'
import type { ServerStatus, SpawnRequest, Spawner, SpawnerLogger, SpawnerState } from '../spawner'
import { containerSpec, LABELS, runsAsRoot } from './container-spec'
import { connectEngine, dockerMessage, isNoChange, isNotFound } from './engine'
import { ensureImage } from './image'
import { lastLogLines } from './logs'
import type { DockerOverrides, DockerSettings } from './settings'

export interface DockerSpawnerOptions extends Omit<DockerSettings, 'profiles'> {
  profiles: Profile<DockerOverrides>[]
  defaultUrl?: string
  log: SpawnerLogger
}

const HOST_NETWORK = 'host'

/** Fills {ip} {port} {base_url} {user} {server} in a command's words. */
function fill(word: string, vars: Record<string, string>): string {
  return word.replace(/\{(ip|port|base_url|user|server)\}/g, (_, k: string) => vars[k] ?? '')
}

export function createDockerSpawner(opts: DockerSpawnerOptions): Spawner {
  const docker = connectEngine(opts.host, opts.apiTimeoutSec * 1000)
  const hostNetwork = opts.network === HOST_NETWORK
  /** Host networking: ports handed to containers this process started and not yet seen stopped. */
  const reserved = new Set<number>()
  const release = (state: SpawnerState) => {
    if (hostNetwork) reserved.delete(Number(state.port))
  }
  const profiles = opts.profiles

  /** Removes the container with this name or id, whatever its state; nothing when there is none. */
  const removeContainer = async (ref: string) => {
    try {
      await docker.getContainer(ref).remove({ force: true, v: false })
    } catch (err) {
      if (!isNotFound(err) && !isNoChange(err))
        throw new Error(`could not remove container ${ref}: ${dockerMessage(err)}`)
    }
  }

  /** The hub id label of the container named `name` ('' without one); undefined when there is none. */
  const ownerOf = async (name: string): Promise<string | undefined> => {
    try {
      return (await docker.getContainer(name).inspect()).Config.Labels?.[LABELS.hubId] ?? ''
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw new Error(`could not look up container ${name}: ${dockerMessage(err)}`)
    }
  }

  const makeHomeVolume = async (name: string, req: SpawnRequest) => {
    try {
      // the same name again returns the volume as it is: its files stay
      await docker.createVolume({ Name: name, Labels: { [LABELS.user]: req.user } })
    } catch (err) {
      throw new Error(`could not create volume ${name}: ${dockerMessage(err)}`)
    }
  }

  return {
    instanceKey: (state) => String(state.id),
    optionsForm: (user) => profileForm(profiles, user),
    checkOptions: (user, options) => chooseProfile(profiles, user, options).options,

    async start(req: SpawnRequest, signal: AbortSignal): Promise<SpawnerState> {
      signal.throwIfAborted()
      const chosen = profileOverrides(profiles, req.options)
      const image = chosen.image ?? opts.image
      const hubId = req.env.EDGEHUB_HUB_ID ?? ''
      const names = { username: req.user, servername: req.server }
      const name = objectName(opts.nameTemplate, names)
      const homeVolume = objectName(opts.volumeNameTemplate, names)

      const { user: imageUser } = await ensureImage(docker, image, opts.pullPolicy, req.progress, signal)
      const user = opts.user ?? imageUser
      if (runsAsRoot(user) && !opts.allowRoot)
        throw new Error(
          opts.user
            ? `spawner.docker.user ${opts.user} is root, and spawner.docker.allowRoot is false`
            : `image ${image} runs as root (its USER is ${imageUser || 'unset'}): set spawner.docker.user (e.g. 1000:100), or spawner.docker.allowRoot`,
        )
      signal.throwIfAborted()

      // a container left with this name (kept by remove: false, or a start that never got recorded)
      // is replaced: its environment holds an older token. Another hub's is left alone.
      const owner = await ownerOf(name)
      if (owner !== undefined && owner !== hubId)
        throw new Error(
          `container ${name} exists and is not this hub's (label ${LABELS.hubId}=${owner || 'unset'}): remove it, or give this hub another spawner.docker.nameTemplate`,
        )
      if (owner !== undefined) await removeContainer(name)
      const port = hostNetwork ? await pickHostPort() : opts.port
      const ip = hostNetwork ? opts.ip : '0.0.0.0'
      let id: string | undefined
      try {
        await makeHomeVolume(homeVolume, req)
        const vars = { ip, port: String(port), base_url: req.baseUrl, user: req.user, server: req.server }
        const place = {
          user: req.user,
          server: req.server,
          baseUrl: req.baseUrl,
          ip,
          port,
          defaultUrl: opts.defaultUrl,
        }
        const cmd = chosen.cmd ?? opts.cmd
        const spec = containerSpec({
          name,
          image,
          cmd: cmd?.map((w) => fill(w, vars)),
          // what JupyterHub gives a server, over the configured variables: nothing of the hub's own
          env: { ...opts.env, ...chosen.env, ...jupyterhubEnv(req.env, place) },
          labels: {
            ...opts.labels,
            [LABELS.hubId]: hubId,
            [LABELS.user]: req.user,
            [LABELS.server]: req.server,
            [LABELS.baseUrl]: req.baseUrl,
            [LABELS.port]: String(port),
            ...(hostNetwork ? { [LABELS.ip]: ip } : {}),
          },
          user: opts.user,
          network: opts.network,
          homeVolume,
          notebookDir: opts.notebookDir,
          volumes: [...opts.volumes, ...(chosen.volumes ?? [])],
          cpuLimit: chosen.cpuLimit ?? opts.cpuLimit,
          memLimit: chosen.memLimit ?? opts.memLimit,
        })
        signal.throwIfAborted()
        req.progress(`Creating container ${name}`)
        try {
          id = (await docker.createContainer({ ...spec, abortSignal: signal })).id
        } catch (err) {
          signal.throwIfAborted()
          throw new Error(`could not create container ${name} from ${image}: ${dockerMessage(err)}`)
        }
        signal.throwIfAborted()
        req.progress(`Starting container ${name}`)
        const container = docker.getContainer(id)
        try {
          await container.start()
        } catch (err) {
          throw new Error(`could not start container ${name}: ${dockerMessage(err)}`)
        }
        signal.throwIfAborted()
        const address = hostNetwork ? ip : await containerAddress(container, opts.network)
        const memLimit = chosen.memLimit ?? opts.memLimit
        const state: SpawnerState = {
          id,
          name,
          ip: address,
          port,
          baseUrl: req.baseUrl,
          ...(memLimit ? { memLimit } : {}),
        }
        opts.log.info('started server container', { user: req.user, server: req.server, name, id, image })
        return state
      } catch (err) {
        // nothing half-made stays: a created container goes (by name too: a create may have
        // landed after its request was aborted); the home volume is the user's and stays
        await removeContainer(id ?? name).catch((e: Error) =>
          opts.log.warn('could not remove a container of a failed start', { name, err: e.message }),
        )
        if (hostNetwork) reserved.delete(port)
        throw err
      }
    },

    async poll(state: SpawnerState): Promise<ServerStatus> {
      const container = docker.getContainer(String(state.id))
      let info: Docker.ContainerInspectInfo
      try {
        info = await container.inspect()
      } catch (err) {
        if (isNotFound(err)) {
          release(state)
          return { phase: 'stopped', reason: 'the container is gone' }
        }
        throw new Error(`could not inspect container ${state.name}: ${dockerMessage(err)}`)
      }
      const s = info.State
      if (s.Running && !s.Restarting) {
        const host = String(state.ip)
        const target = `${host.includes(':') ? `[${host}]` : host}:${state.port}`
        return { phase: 'running', target, url: `http://${target}${state.baseUrl}` }
      }
      if (s.Status === 'created' || s.Restarting) return { phase: 'pending', message: `container ${s.Status}` }
      release(state)
      return {
        phase: 'stopped',
        exitCode: s.ExitCode,
        reason: await exitReason(container, s, state.memLimit as string | undefined),
      }
    },

    async stop(state: SpawnerState, { graceMs = 10_000 } = {}): Promise<void> {
      const ref = String(state.id)
      const container = docker.getContainer(ref)
      // the engine answers only once the container has stopped: within the request's timeout
      const t = Math.max(0, Math.min(Math.ceil(graceMs / 1000), opts.apiTimeoutSec - 5))
      try {
        await container.stop({ t })
      } catch (err) {
        if (!isNotFound(err) && !isNoChange(err))
          throw new Error(`could not stop container ${state.name}: ${dockerMessage(err)}`)
      }
      if (opts.remove) await removeContainer(ref)
      release(state)
    },

    async list(hubId: string) {
      const found = await docker.listContainers({
        all: false,
        filters: { label: [`${LABELS.hubId}=${hubId}`], status: ['running'] },
      })
      const out: Array<{ user: string; server: string; state: SpawnerState }> = []
      for (const c of found) {
        const labels = c.Labels ?? {}
        const ip = labels[LABELS.ip] ?? c.NetworkSettings?.Networks?.[opts.network]?.IPAddress ?? ''
        out.push({
          user: labels[LABELS.user] ?? '',
          server: labels[LABELS.server] ?? '',
          state: {
            id: c.Id,
            name: (c.Names?.[0] ?? '').replace(/^\//, ''),
            ip,
            port: Number(labels[LABELS.port]),
            baseUrl: labels[LABELS.baseUrl] ?? '/',
          },
        })
      }
      return out
    },
  }

  async function pickHostPort(): Promise<number> {
    try {
      return await pickPort(opts.ip, opts.portRange, reserved)
    } catch {
      throw new Error(`no free port on ${opts.ip} in spawner.docker.portRange ${opts.portRange.join('-')}`)
    }
  }
}

/** The container's address on `network`, where the hub and proxy reach it. */
async function containerAddress(container: Docker.Container, network: string): Promise<string> {
  const info = await container.inspect()
  const address = info.NetworkSettings?.Networks?.[network]?.IPAddress
  if (!address) throw new Error(`container ${info.Name.replace(/^\//, '')} has no address on network ${network}`)
  return address
}

/** Why a container stopped, with its last log lines: what the spawn page shows when a start fails. */
async function exitReason(
  container: Docker.Container,
  s: Docker.ContainerInspectInfo['State'],
  memLimit: string | undefined,
): Promise<string> {
  const why = s.OOMKilled
    ? `the container ran out of memory${memLimit ? ` (limit ${memLimit})` : ''} and was killed`
    : s.Error
      ? `the container failed: ${s.Error}`
      : `the container exited with code ${s.ExitCode}`
  const lines = await lastLogLines(container)
  return lines.length ? `${why}; its last log lines:\n${lines.join('\n')}` : why
}
