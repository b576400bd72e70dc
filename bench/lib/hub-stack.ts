// The whole edgehub stack for benchmarks that go through the hub: a private Redis, one hub
// (`edgehub hub`) and one proxy (`edgehub proxy`) in front of it, started from a written config file
// by the test harness (test/support/harness.ts), with the benchmark's own connection to the state
// (deps) for seeding users. The stack is registered with the scenario's cleanups and stopped by pid;
// users' servers are stopped by the hub's mark on their processes.
import { mkdirSync } from 'node:fs'
import { startHarness, type Harness, type RedisServer } from '../../test/support/harness'
import { withHubState, type HubState } from '../../test/support/hub-state'
import type { Cleanups } from './cleanup'

export interface HubStack extends HubState {
  /** The proxy's address: every API call and every /user/ request goes through it. */
  url: string
  hubUrl: string
  harness: Harness
  redis: RedisServer
  /** The proxy's nginx master (its workers are its children), for CPU and memory figures. */
  proxy: { pid: number; url: string }
  /** The hub's pid (a node process), for CPU and memory figures. */
  hubPid: number
  redisPid: number
  /** Stops every user's server and service process of this hub (by the hub's mark). */
  stopServers(): Promise<void>
}

export interface HubStackOptions {
  dir: string
  cleanups: Cleanups
  /** Config file keys merged over the benchmark defaults (one level deep for objects). */
  overrides?: Record<string, unknown>
  /** Extra node flags for the hub process only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
  hubNodeArgs?: string[]
}

export async function startHubStack(opts: HubStackOptions): Promise<HubStack> {
  const { dir, cleanups } = opts
  mkdirSync(dir, { recursive: true })
  const harness = await startHarness({
    dir,
    redis: 'open',
    layout: 'single',
    hubNodeArgs: opts.hubNodeArgs,
    defaults: 'product',
    settings: { logLevel: 'info', auth: { native: { scryptCost: 1024 } }, ...opts.overrides },
  })
  cleanups.push(() => harness.stop()) // the state connection first (withHubState), then every process
  const stack = await withHubState(harness)
  const hub = harness.hubs[0]!
  const proxyPid = harness.nginxPid(0)
  if (!proxyPid) throw new Error(`the proxy's nginx pid is not recorded in ${dir}/proxy`)
  return {
    url: harness.url,
    hubUrl: hub.url,
    harness,
    deps: stack.deps,
    config: stack.config,
    redis: harness.redis!,
    proxy: { pid: proxyPid, url: harness.url },
    hubPid: hub.pid,
    redisPid: harness.redis!.pid,
    stopServers: () => harness.stopServers(),
  }
}
