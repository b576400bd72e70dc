// Hub replicas for the benchmarks of the hub itself (logins, API reads, start time): a private
// Redis, as many `edgehub hub` processes as a scenario asks for (each on its own free port, one shared
// config file), and nginx+Lua proxies each balancing over a chosen set of those replicas. The
// benchmark keeps its own connection to the state (deps) for seeding. Every process is registered
// with the scenario's cleanups and stopped by pid.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import { stringify } from 'yaml'
import { startRedis, type RedisProcess } from '../../control-plane/src/stack/redis-process'
import { startChild, type Child } from '../../runtime/src/child'
import { proxyOptions } from '../../control-plane/src/stack/proxy'
import { startProxy, HEALTH_PATH, probe, type ProxyProcess } from '../../proxy/src/nginx-process'
import { freePort } from '../../runtime/src/ports'
import { delay, waitFor } from '../../runtime/src/wait'
import { loadConfig } from '../../control-plane/src/config/load'
import { buildDeps, type Deps } from '../../control-plane/src/deps'
import type { Config } from '../../control-plane/src/config/schema'
import { createLogger } from '../../runtime/src/log'
import type { Cleanups } from './cleanup'

const BIN = resolve(import.meta.dirname, '../../bin/edgehub.js')

export interface HubReplica {
  port: number
  url: string
  pid: number
  child: Child
  /** SIGTERM (graceful), then SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>
}

export interface ReplicaStack {
  config: Config
  configFile: string
  redis: RedisProcess
  /** The benchmark's own connection to the state (ioredis with auto-pipelining, for bulk seeding). */
  deps: Deps
  /** Starts one more hub replica and waits until it answers its health check. */
  startHub(): Promise<HubReplica>
  /** Spawns a hub replica on the given port without waiting (start-time measurements). */
  spawnHub(port: number): HubReplica
  /** A proxy whose /hub/ upstreams are exactly these replicas. */
  startProxy(hubs: HubReplica[]): Promise<ProxyProcess>
}

export interface ReplicaStackOptions {
  dir: string
  cleanups: Cleanups
  /** Config file keys merged over the defaults below (one level deep for objects). */
  overrides?: Record<string, unknown>
  /** Extra node flags for the hub processes (e.g. `--cpu-prof --cpu-prof-dir=DIR`). */
  hubNodeArgs?: string[]
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] =
      b && v && typeof b === 'object' && typeof v === 'object' && !Array.isArray(v)
        ? { ...(b as object), ...(v as object) }
        : v
  }
  return out
}

/**
 * Redis and the benchmark's deps; no hub yet. Unlike the test stacks, the config leaves the
 * password hashing cost at its default.
 */
export async function startReplicaStack(opts: ReplicaStackOptions): Promise<ReplicaStack> {
  const { dir, cleanups } = opts
  mkdirSync(dir, { recursive: true })
  const [proxyPort, hubPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()])
  const settings = merge(
    {
      dataDir: dir,
      port: proxyPort,
      logLevel: 'info',
      hub: { port: hubPort },
      redis: { url: `redis://127.0.0.1:${redisPort}` },
      proxy: { workers: 1 },
    },
    opts.overrides ?? {},
  )
  const configFile = join(dir, 'edgehub.yaml')
  writeFileSync(configFile, stringify(settings))
  const { config } = loadConfig({ file: configFile, env: {} })

  const redis = await startRedis({ dir: join(dir, 'redis'), port: redisPort })
  cleanups.push(() => redis.stop())
  const conn = new Redis(redis.url, { enableAutoPipelining: true, maxRetriesPerRequest: 3 })
  cleanups.push(() => conn.disconnect())
  const deps = await buildDeps(config, { log: createLogger('bench', { level: 'error' }), redis: conn })

  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_') && k !== 'NODE_OPTIONS'),
  )
  let hubs = 0
  let proxies = 0
  const spawnOn = (port: number): HubReplica => {
    const n = hubs++
    const child = startChild({
      name: `hub${n}`,
      command: process.execPath,
      args: [...(opts.hubNodeArgs ?? []), BIN, 'hub', '--config', configFile],
      env: { ...env, EDGEHUB_HUB_PORT: String(port) },
      cwd: dir,
      logFile: join(dir, `hub${n}.log`),
    })
    const replica: HubReplica = {
      port,
      url: `http://127.0.0.1:${port}`,
      pid: child.proc.pid!,
      child,
      stop: () => cleanups.run(stop),
    }
    const stop = cleanups.push(() => child.stop())
    return replica
  }
  let firstPortUsed = false
  const nextPort = async () => {
    if (firstPortUsed) return freePort()
    firstPortUsed = true
    return hubPort
  }

  return {
    config,
    configFile,
    redis,
    deps,
    spawnHub: spawnOn,
    async startHub() {
      const h = spawnOn(await nextPort())
      await waitFor(
        `hub ${h.port} health`,
        async () => {
          if (h.child.proc.exitCode !== null) throw new Error(`hub exited (log in ${dir})`)
          return (await probe(`${h.url}/hub/health`)) === 200
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      )
      return h
    },
    async startProxy(replicas) {
      const port = await freePort()
      const o = proxyOptions({
        ...config,
        proxy: { ...config.proxy, hubUpstreams: replicas.map((h) => `127.0.0.1:${h.port}`) },
      })
      const p = await startProxy({ ...o, listen: { host: '127.0.0.1', port }, runDir: join(dir, `proxy${proxies++}`) })
      cleanups.push(() => p.stop())
      await waitFor('the proxy to sync', async () => (await probe(`${p.url}${HEALTH_PATH}`)) === 200, {
        timeoutMs: 60_000,
        intervalMs: 50,
      })
      return p
    },
  }
}

/**
 * Spawns a hub replica of this stack on a fresh port and times it: ms from the spawn until both
 * GET /hub/health and GET /hub/api/ answer 200 (each polled every `intervalMs` until it does). The
 * replica is stopped afterwards.
 */
export async function timeHubStart(
  stack: ReplicaStack,
  opts: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const interval = opts.intervalMs ?? 5
  const deadline = opts.timeoutMs ?? 60_000
  const port = await freePort()
  const t0 = performance.now()
  const h = stack.spawnHub(port)
  try {
    const until200 = async (path: string) => {
      for (;;) {
        if (h.child.proc.exitCode !== null) throw new Error(`hub on port ${port} exited during its start`)
        if ((await probe(`${h.url}${path}`, 2000)) === 200) return
        if (performance.now() - t0 > deadline)
          throw new Error(`hub on port ${port}: ${path} not answering after ${deadline} ms`)
        await delay(interval)
      }
    }
    await Promise.all([until200('/hub/health'), until200('/hub/api/')])
    return performance.now() - t0
  } finally {
    await h.stop()
  }
}
