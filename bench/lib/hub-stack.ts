// The whole edgehub stack for benchmarks that go through the hub: a private Redis, one hub process
// (`edgehub hub`, as in production) and one nginx+Lua proxy in front of it, on free loopback ports,
// with the benchmark's own connection to the state (deps) for seeding users and for cleanup. Every
// process is registered with the scenario's cleanups and stopped by pid; users' servers are stopped
// through the orchestrator, then any server process of this hub that no record owns.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { startRedis, type RedisProcess } from '../../control-plane/src/stack/redis-process'
import { startChild, type Child } from '../../runtime/src/child'
import { proxyOptions } from '../../control-plane/src/stack/proxy'
import { startProxy, HEALTH_PATH, type ProxyProcess } from '../../proxy/src/nginx-process'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { loadConfig } from '../../control-plane/src/config/load'
import { buildDeps, type Deps } from '../../control-plane/src/deps'
import type { Config } from '../../control-plane/src/config/schema'
import { createLogger } from '../../runtime/src/log'
import type { Cleanups } from './cleanup'

const BIN = resolve(import.meta.dirname, '../../bin/edgehub.js')

export interface HubStack {
  /** The proxy's address: every API call and every /user/ request goes through it. */
  url: string
  hubUrl: string
  config: Config
  deps: Deps
  redis: RedisProcess
  hub: Child
  proxy: ProxyProcess
  /** The hub's pid (a node process), for CPU and memory figures. */
  hubPid: number
  redisPid: number
  /** Stops every user's server this hub knows of, then any of its server processes no record owns. */
  stopServers(): Promise<void>
}

export interface HubStackOptions {
  dir: string
  cleanups: Cleanups
  /** Config file keys merged over the benchmark defaults (one level deep for objects). */
  overrides?: Record<string, Record<string, unknown> | unknown>
  /** Extra node flags for the hub process only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
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

export async function startHubStack(opts: HubStackOptions): Promise<HubStack> {
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
      auth: { native: { scryptCost: 1024 } },
    },
    (opts.overrides ?? {}) as Record<string, unknown>,
  )
  const configFile = join(dir, 'edgehub.yaml')
  writeFileSync(configFile, stringify(settings))
  const { config } = loadConfig({ file: configFile, env: {} })

  const redis = await startRedis({ dir: join(dir, 'redis'), port: redisPort })
  cleanups.push(() => redis.stop())
  const deps = await buildDeps(config, { log: createLogger('bench', { level: 'error' }) })
  cleanups.push(() => deps.close())

  const proxy = await startProxy({ ...proxyOptions(config), runDir: join(dir, 'proxy') })
  cleanups.push(() => proxy.stop())

  const stopServers = async () => {
    await deps.orchestrator.stopAll()
    await deps.orchestrator.sweepOrphans()
  }
  cleanups.push(stopServers)

  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_') && k !== 'NODE_OPTIONS'),
  )
  const hub = startChild({
    name: 'hub',
    command: process.execPath,
    args: [...(opts.hubNodeArgs ?? []), BIN, 'hub', '--config', configFile],
    env,
    cwd: dir,
    logFile: join(dir, 'hub.log'),
  })
  cleanups.push(() => hub.stop())
  const hubUrl = `http://127.0.0.1:${hubPort}`
  await waitFor(
    'the hub to answer its health check',
    async () => (await fetch(`${hubUrl}/hub/health`).catch(() => null))?.ok,
    { timeoutMs: 30_000, intervalMs: 100 },
  )
  const url = proxy.url
  await waitFor('the proxy to sync', async () => (await fetch(`${url}${HEALTH_PATH}`).catch(() => null))?.ok, {
    timeoutMs: 30_000,
    intervalMs: 100,
  })

  return {
    url,
    hubUrl,
    config,
    deps,
    redis,
    hub,
    proxy,
    hubPid: hub.proc.pid!,
    redisPid: redis.child.proc.pid!,
    stopServers,
  }
}
