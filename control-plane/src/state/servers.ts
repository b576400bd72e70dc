// Server records: one hash per (user, server name), plus the set of servers that are not stopped.
import type { Redis, Result } from 'ioredis'
import type { SpawnerState } from '../../../spawners/src'
import type { KeyNames } from './keys'
import { FencedOut } from '../../../runtime/src/errors'
import type { Guard } from '../spawn/lock'
import { decodeJson, isObject } from './undecodable'

// KEYS: record, user's server set, active set, the lock's fence counter. ARGV: fence, name, user/name,
// 'stopped'|'active'|'', fields... Refused (0) when the lock has been acquired by anyone since.
const SAVE_SCRIPT = `
if tonumber(redis.call('GET', KEYS[4]) or '0') > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'fence', ARGV[1], unpack(ARGV, 5))
redis.call('SADD', KEYS[2], ARGV[2])
if ARGV[4] == 'stopped' then redis.call('SREM', KEYS[3], ARGV[3]) elseif ARGV[4] == 'active' then redis.call('SADD', KEYS[3], ARGV[3]) end
return 1
`

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
  /** What the start request asked for (JupyterHub's user_options). */
  userOptions: Record<string, unknown> | null
  /** JupyterHub 6's display_name: how pages name the server ('' until one is set: the name is shown). */
  displayName: string
}

type Fields = Partial<Omit<ServerRecord, 'user' | 'name'>>

function toHash(f: Fields): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue
    const key =
      k === 'lastActivity'
        ? 'last_activity'
        : k === 'userOptions'
          ? 'user_options'
          : k === 'displayName'
            ? 'display_name'
            : k
    // null is '' for every field (JSON "null" would read back as an undecodable object)
    out[key] =
      v === null
        ? ''
        : k === 'spawner' || k === 'userOptions'
          ? JSON.stringify(v)
          : typeof v === 'boolean'
            ? v
              ? '1'
              : '0'
            : String(v)
  }
  return out
}

/** The record of a default server that never started: JupyterHub's default server always exists. */
export function neverStarted(user: string): ServerRecord {
  return {
    user,
    name: '',
    state: 'stopped',
    url: '',
    target: '',
    token: '',
    spawner: null,
    started: null,
    stopped: null,
    lastActivity: null,
    log: '',
    message: '',
    failed: false,
    userOptions: null,
    displayName: '',
  }
}

export function serverFromHash(user: string, name: string, h: Record<string, string>): ServerRecord | undefined {
  if (!h.state) return undefined
  return {
    user,
    name,
    state: h.state as ServerPhase,
    url: h.url ?? '',
    target: h.target ?? '',
    token: h.token ?? '',
    spawner: h.spawner
      ? ((decodeJson(`server ${user}/${name}`, 'spawner', h.spawner, isObject) as SpawnerState | undefined) ?? null)
      : null,
    started: h.started || null,
    stopped: h.stopped || null,
    lastActivity: h.last_activity || null,
    log: h.log ?? '',
    message: h.message ?? '',
    failed: h.failed === '1',
    userOptions: h.user_options
      ? (decodeJson(`server ${user}/${name}`, 'user_options', h.user_options, isObject) ?? null)
      : null,
    displayName: h.display_name ?? '',
  }
}

export class Servers {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {
    if (!redis.saveServer) redis.defineCommand('saveServer', { numberOfKeys: 4, lua: SAVE_SCRIPT })
  }

  key(user: string, name: string): string {
    return this.keys.server(user, name)
  }

  async get(user: string, name: string): Promise<ServerRecord | undefined> {
    return serverFromHash(user, name, await this.redis.hgetall(this.keys.server(user, name)))
  }

  async list(user: string): Promise<ServerRecord[]> {
    const names = (await this.redis.smembers(this.keys.userServers(user))).sort()
    const recs = await Promise.all(names.map((n) => this.get(user, n)))
    return recs.filter((r): r is ServerRecord => !!r)
  }

  /** The server records of several users, as list() for each, in two pipelined round trips. */
  async listMany(users: readonly string[]): Promise<ServerRecord[][]> {
    if (users.length === 0) return []
    const sets = this.redis.pipeline()
    for (const u of users) sets.smembers(this.keys.userServers(u))
    const names = (await sets.exec())!.map(([err, n]) => {
      if (err) throw err
      return (n as string[]).sort()
    })
    const wanted = users.flatMap((u, i) => names[i].map((name) => ({ u, i, name })))
    const out: ServerRecord[][] = users.map(() => [])
    if (wanted.length === 0) return out
    const recs = this.redis.pipeline()
    for (const w of wanted) recs.hgetall(this.keys.server(w.u, w.name))
    const hashes = (await recs.exec())!
    wanted.forEach((w, k) => {
      const [err, h] = hashes[k]
      if (err) throw err
      const rec = serverFromHash(w.u, w.name, h as Record<string, string>)
      if (rec) out[w.i].push(rec)
    })
    return out
  }

  /** Writes fields under the server lock (its guard); throws FencedOut when the lock has moved on. */
  async save(user: string, name: string, guard: Guard, fields: Fields): Promise<void> {
    const flag = fields.state === 'stopped' ? 'stopped' : fields.state ? 'active' : ''
    const pairs = Object.entries(toHash(fields)).flat()
    const keys = [
      this.keys.server(user, name),
      this.keys.userServers(user),
      this.keys.runningServers,
      guard.key,
    ] as const
    const ok = await this.redis.saveServer(...keys, guard.fence, name, `${user}/${name}`, flag, ...pairs)
    if (!ok) throw new FencedOut(`server ${user}/${name} was taken over by a newer lock holder`)
  }

  async remove(user: string, name: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.server(user, name))
      .srem(this.keys.userServers(user), name)
      .srem(this.keys.runningServers, `${user}/${name}`)
      .exec()
  }

  /**
   * The users with a server that is not stopped (from the active set alone), or with `ready`, those
   * with a running one (the states of the active servers read in one pipelined round trip).
   */
  async activeUsers(opts: { ready?: boolean } = {}): Promise<Set<string>> {
    const refs = await this.active()
    if (!opts.ready) return new Set(refs.map((r) => r.user))
    if (refs.length === 0) return new Set()
    const p = this.redis.pipeline()
    for (const r of refs) p.hget(this.keys.server(r.user, r.name), 'state')
    const states = (await p.exec())!
    return new Set(refs.filter((_, i) => states[i][1] === 'running').map((r) => r.user))
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

declare module 'ioredis' {
  interface RedisCommander<Context> {
    saveServer(
      record: string,
      userServers: string,
      active: string,
      fenceKey: string,
      fence: number,
      name: string,
      ref: string,
      flag: string,
      ...fields: string[]
    ): Result<number, Context>
  }
}
