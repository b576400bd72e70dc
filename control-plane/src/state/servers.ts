// Server records: one hash per (user, server name), plus the set of servers that are not stopped.
import type { Redis } from 'ioredis'
import type { SpawnerState } from '../../../spawners/src/spawner'
import type { KeyNames } from './keys'

export type ServerPhase = 'pending' | 'running' | 'stopping' | 'stopped'

export interface ServerRecord {
  user: string
  name: string
  state: ServerPhase
  url: string
  target: string
  token: string
  spawner: SpawnerState | null
  started: string | null
  stopped: string | null
  lastActivity: string | null
  log: string
  message: string
  failed: boolean
}

type Fields = Partial<Omit<ServerRecord, 'user' | 'name'>>

function toHash(f: Fields): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue
    const key = k === 'lastActivity' ? 'last_activity' : k
    out[key] = k === 'spawner' ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? '1' : '0') : v === null ? '' : String(v)
  }
  return out
}

function fromHash(user: string, name: string, h: Record<string, string>): ServerRecord | undefined {
  if (!h.state) return undefined
  return {
    user,
    name,
    state: h.state as ServerPhase,
    url: h.url ?? '',
    target: h.target ?? '',
    token: h.token ?? '',
    spawner: h.spawner ? (JSON.parse(h.spawner) as SpawnerState) : null,
    started: h.started || null,
    stopped: h.stopped || null,
    lastActivity: h.last_activity || null,
    log: h.log ?? '',
    message: h.message ?? '',
    failed: h.failed === '1',
  }
}

export class Servers {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {}

  async get(user: string, name: string): Promise<ServerRecord | undefined> {
    return fromHash(user, name, await this.redis.hgetall(this.keys.server(user, name)))
  }

  async list(user: string): Promise<ServerRecord[]> {
    const names = (await this.redis.smembers(this.keys.userServers(user))).sort()
    const recs = await Promise.all(names.map((n) => this.get(user, n)))
    return recs.filter((r): r is ServerRecord => !!r)
  }

  async save(user: string, name: string, fields: Fields): Promise<void> {
    const ref = `${user}/${name}`
    const m = this.redis.multi().hset(this.keys.server(user, name), toHash(fields)).sadd(this.keys.userServers(user), name)
    if (fields.state === 'stopped') m.srem(this.keys.runningServers, ref)
    else if (fields.state) m.sadd(this.keys.runningServers, ref)
    await m.exec()
  }

  async remove(user: string, name: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.server(user, name))
      .srem(this.keys.userServers(user), name)
      .srem(this.keys.runningServers, `${user}/${name}`)
      .exec()
  }

  /** Every (user, server) whose record is not stopped. */
  async active(): Promise<Array<{ user: string; name: string }>> {
    const refs = await this.redis.smembers(this.keys.runningServers)
    return refs.map((r) => {
      const i = r.indexOf('/')
      return { user: r.slice(0, i), name: r.slice(i + 1) }
    })
  }
}
