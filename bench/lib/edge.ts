// The edgehub proxy as the benchmark runs it: a private Redis, the proxy tables seeded the way the
// hub writes them (routes to the benchmark upstream, a cookie key, one API token per user), and the
// real nginx+Lua proxy syncing from it. No hub process: /user/ requests never reach the hub.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { startRedisServer, type RedisServer } from '../../test/support/harness'
import {
  ProxyTables,
  type TableOp,
  tokenDigest,
  newKeySecret,
  newSessionId,
  signCookie,
  SESSION_COOKIE,
} from '../../control-plane/src/protocol'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { startProxy, HEALTH_PATH, type ProxyProcess } from '../../proxy/src/nginx-process'
import type { Cleanups } from './cleanup'

export const PREFIX = 'edgehub:'
const KID = 'bench'
const BATCH = 2000

export interface BenchUser {
  name: string
  /** `Cookie` header value with a valid session. */
  cookie: string
  /** API token (its digest is in the proxy's token table). */
  token: string
}

export interface EdgeRedis {
  redis: RedisServer
  client: Redis
  tables: ProxyTables
  /** The cookie signing key's secret. */
  secret: string
}

export async function startEdgeRedis(dir: string, cleanups: Cleanups): Promise<EdgeRedis> {
  const redis = await startRedisServer({ dir: join(dir, 'redis'), port: await freePort() })
  cleanups.push(() => redis.stop())
  const client = new Redis(redis.url, { maxRetriesPerRequest: 3 })
  cleanups.push(() => client.disconnect())
  const tables = new ProxyTables(client, PREFIX, 1_000_000)
  const secret = newKeySecret()
  await tables.set('keys', KID, { secret, created: Math.floor(Date.now() / 1000) })
  return { redis, client, tables, secret }
}

export function routeOp(user: string, upstreamPort: number): TableOp {
  return {
    table: 'routes',
    key: `/user/${user}/`,
    value: { kind: 'user', target: `127.0.0.1:${upstreamPort}`, user, server: '', token: 'bench-server-secret' },
  }
}

/** Writes routes and tokens for the users, in batches, the way the hub writes them. */
export async function seedUsers(
  edge: EdgeRedis,
  names: string[],
  upstreamPort: number,
  onProgress?: (done: number) => void,
): Promise<BenchUser[]> {
  const exp = Math.floor(Date.now() / 1000) + 7 * 86400
  const users: BenchUser[] = names.map((name) => ({
    name,
    cookie: `${SESSION_COOKIE}=${signCookie({ kid: KID, user: name, sid: newSessionId(), exp }, edge.secret)}`,
    token: randomBytes(24).toString('hex'),
  }))
  for (let i = 0; i < users.length; i += BATCH) {
    const ops: TableOp[] = []
    for (const u of users.slice(i, i + BATCH)) {
      ops.push(routeOp(u.name, upstreamPort), {
        table: 'tokens',
        key: tokenDigest(u.token),
        value: { user: u.name, expires_at: 0 },
      })
    }
    await edge.tables.apply(ops)
    onProgress?.(Math.min(users.length, i + BATCH))
  }
  return users
}

export interface EdgeProxy {
  proxy: ProxyProcess
  url: string
}

export async function startEdgeProxy(
  edge: EdgeRedis,
  opts: { runDir: string; workers: number; sharedDictSize?: string; cleanups: Cleanups },
): Promise<EdgeProxy> {
  const port = await freePort()
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port },
    hubUpstreams: [`127.0.0.1:${await freePort()}`], // nothing listens: the benchmark never asks the hub
    redis: { host: '127.0.0.1', port: Number(new URL(edge.redis.url).port) },
    prefix: PREFIX,
    runDir: opts.runDir,
    workerProcesses: opts.workers,
    sharedDictSize: opts.sharedDictSize ?? '64m',
    user: process.getuid?.() === 0 ? 'root' : undefined,
  })
  opts.cleanups.push(() => proxy.stop())
  const url = proxy.url
  const version = await edge.tables.version()
  await waitFor(
    'the proxy to sync',
    async () => {
      const res = await fetch(`${url}${HEALTH_PATH}`).catch(() => null)
      const body = (await res?.json().catch(() => null)) as { version?: number } | null
      return res?.ok && Number(body?.version) >= version
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  )
  return { proxy, url }
}
