// Hub replicas for the benchmarks of the hub itself (logins, API reads, start time): a private
// Redis, as many `edgehub hub` processes as a scenario asks for (each on its own free port, one shared
// config file), and proxies (`edgehub proxy`) each balancing over a chosen set of those replicas, all
// started by the test harness (test/support/harness.ts). The benchmark keeps its own connection to the
// state (deps) for seeding. Everything is registered with the scenario's cleanups and stopped by pid.
import { mkdirSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import type { Child } from '../../runtime/src/child'
import { probe } from '../../proxy/src/nginx-process'
import { freePort } from '../../runtime/src/ports'
import { delay } from '../../runtime/src/wait'
import { startHarness, type Harness, type Part, type RedisServer } from '../../test/support/harness'
import { withHubState, type HubState } from '../../test/support/hub-state'
import type { Cleanups } from './cleanup'

export interface HubReplica {
  port: number
  url: string
  pid: number
  child: Child
  /** SIGTERM (graceful), then SIGKILL after 5 s; waits for the exit. */
  stop(): Promise<void>
}

/** A proxy of the stack: its address and its nginx master's pid (for CPU figures). */
export interface ReplicaProxy {
  url: string
  pid: number
}

export interface ReplicaStack extends HubState {
  configFile: string
  harness: Harness
  redis: RedisServer
  /** Starts one more hub replica and waits until it answers its health check. */
  startHub(): Promise<HubReplica>
  /** Spawns a hub replica on the given port without waiting (start-time measurements). */
  spawnHub(port: number): HubReplica
  /** A proxy whose /hub/ upstreams are exactly these replicas. */
  startProxy(hubs: HubReplica[]): Promise<ReplicaProxy>
}

export interface ReplicaStackOptions {
  dir: string
  cleanups: Cleanups
  /** Config file keys merged over the defaults below (one level deep for objects). */
  overrides?: Record<string, unknown>
  /** Extra node flags for the hub processes (e.g. `--cpu-prof --cpu-prof-dir=DIR`). */
  hubNodeArgs?: string[]
}

/**
 * Redis and the benchmark's deps; no hub yet. Unlike the test stacks, the config leaves the
 * password hashing cost at its default.
 */
export async function startReplicaStack(opts: ReplicaStackOptions): Promise<ReplicaStack> {
  const { dir, cleanups } = opts
  mkdirSync(dir, { recursive: true })
  const harness = await startHarness({
    dir,
    hubs: 0,
    proxies: 0,
    redis: 'open',
    defaults: 'product',
    hubNodeArgs: opts.hubNodeArgs,
    settings: { logLevel: 'info', ...opts.overrides },
  })
  cleanups.push(() => harness.stop())
  const conn = new Redis(harness.redis!.url, { enableAutoPipelining: true, maxRetriesPerRequest: 3 })
  cleanups.push(() => conn.disconnect())
  const { deps, config } = await withHubState(harness, { redis: conn })

  let hubs = 0
  let proxies = 0
  const replica = (part: Part): HubReplica => {
    const stop = cleanups.push(() => part.child.stop())
    return { port: part.port, url: part.url, pid: part.pid, child: part.child, stop: () => cleanups.run(stop) }
  }
  return {
    deps,
    config,
    configFile: harness.configFile,
    harness,
    redis: harness.redis!,
    spawnHub(port) {
      return replica(harness.spawnHub(hubs++, port))
    },
    async startHub() {
      return replica(await harness.startHub(hubs++, { port: await freePort() }))
    },
    async startProxy(replicas) {
      const i = proxies++
      await harness.startProxy(i, {
        port: await freePort(),
        hubUpstreams: replicas.map((h) => `127.0.0.1:${h.port}`),
      })
      const part = harness.proxies[i]!
      cleanups.push(() => harness.stopProxy(i))
      const pid = harness.nginxPid(i)
      if (!pid) throw new Error(`proxy ${i}: no nginx pid recorded in ${dir}`)
      return { url: part.url, pid }
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
