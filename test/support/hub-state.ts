// The hub's own classes on a running stack's Redis, in this process (control-plane/src/deps.ts built
// from the stack's config file): left for the benchmarks, which seed users, sessions, tokens and
// routes in bulk through them (bench/lib/hub-stack.ts, hub-replicas.ts, hub-users.ts, and the
// scenarios using their deps), and for unit tests beside control-plane code (which may use the hub's
// classes). No end-to-end test uses it: those read and seed state through the harness (HTTP, the
// edgehub CLI, Redis with the key schema of control-plane/src/protocol.ts). Its control-plane imports
// are listed in test/unit/import-debt.json; the list only shrinks.
import type { Redis } from 'ioredis'
import { loadConfig } from '../../control-plane/src/config/load'
import type { Config } from '../../control-plane/src/config/schema'
import { buildDeps, type Deps } from '../../control-plane/src/deps'
import { createLogger } from '../../runtime/src/log'

export interface HubState {
  /** The hub's classes on the stack's Redis (closed by the stack's stop()). */
  deps: Deps
  /** The stack's config as the hub reads it. */
  config: Config
}

export type { Deps }

/**
 * Adds the hub's view of state to a started stack or cluster; its stop() closes it first. redis: a
 * connection of the caller's to use (benchmarks seed through one with auto-pipelining).
 */
export async function withHubState<T extends { configFile: string; stop(): Promise<void> }>(
  stack: T,
  opts: { redis?: Redis } = {},
): Promise<T & HubState> {
  const { config } = loadConfig({ file: stack.configFile, env: {} })
  const deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }), redis: opts.redis })
  const stop = stack.stop.bind(stack)
  return Object.assign(stack, {
    deps,
    config,
    async stop() {
      await deps.close().catch(() => {})
      await stop()
    },
  })
}
