// Everything the user models of a page need — each user's record, groups, servers and their
// activity — read in two script calls whatever the page size, each answering one JSON string: a
// pipeline of a thousand commands, or a reply of thousands of RESP elements, costs the hub several
// times more CPU to decode than JSON.parse of the same data.
import type { Redis, Result } from 'ioredis'
import { activityField } from './activity'
import type { KeyNames } from './keys'
import { serverFromHash, type ServerRecord } from './servers'
import { userFromHash, type UserRecord } from './users'

// KEYS: per user its record, its groups and its server names. Returns those three replies per user,
// as JSON (Redis's cjson writes an empty list as {}).
const USERS_SCRIPT = `
local out = {}
for i = 1, #KEYS, 3 do
  out[#out + 1] = redis.call('HGETALL', KEYS[i])
  out[#out + 1] = redis.call('SMEMBERS', KEYS[i + 1])
  out[#out + 1] = redis.call('SMEMBERS', KEYS[i + 2])
end
return cjson.encode(out)`

// KEYS: server records, then the activity hash. ARGV: the servers' activity fields. Returns each
// record, then the activity values (false where none), as JSON.
const SERVERS_SCRIPT = `
local out = {}
for i = 1, #KEYS - 1 do out[i] = redis.call('HGETALL', KEYS[i]) end
out[#KEYS] = redis.call('HMGET', KEYS[#KEYS], unpack(ARGV))
return cjson.encode(out)`

export interface UserBundle {
  user: UserRecord
  /** Sorted. */
  groups: string[]
  /** Sorted by name. */
  servers: ServerRecord[]
  /** Last activity the proxies reported per server, epoch ms, by server name. */
  seen: Map<string, number>
}

/** A list from the scripts' JSON ({} when empty). */
const list = <T>(v: T[] | Record<string, never>): T[] => (Array.isArray(v) ? v : [])

/** A flat [field, value, …] reply as an object. */
function pairs(flat: string[] | Record<string, never>): Record<string, string> {
  const h: Record<string, string> = {}
  const a = list(flat)
  for (let i = 0; i < a.length; i += 2) h[a[i]] = a[i + 1]
  return h
}

export class UserBundles {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {
    if (!redis.readUserBundles) redis.defineCommand('readUserBundles', { lua: USERS_SCRIPT })
    if (!redis.readServerBundles) redis.defineCommand('readServerBundles', { lua: SERVERS_SCRIPT })
  }

  /** The bundles of these users, in their order; users that do not exist are left out. */
  async read(names: readonly string[]): Promise<UserBundle[]> {
    if (names.length === 0) return []
    const k = this.keys
    const keys = names.flatMap((n) => [k.user(n), k.userGroups(n), k.userServers(n)])
    const replies = JSON.parse(await this.redis.readUserBundles(keys.length, ...keys)) as string[][]
    const found: Array<{ user: UserRecord; groups: string[]; serverNames: string[] }> = []
    for (let i = 0; i < names.length; i++) {
      const user = userFromHash(pairs(replies[3 * i]))
      if (user) found.push({ user, groups: list(replies[3 * i + 1]).sort(), serverNames: list(replies[3 * i + 2]).sort() })
    }
    const wanted = found.flatMap((f) => f.serverNames.map((s) => ({ user: f.user.name, server: s })))
    if (wanted.length === 0) return found.map((f) => ({ user: f.user, groups: f.groups, servers: [], seen: new Map() }))

    const serverKeys = [...wanted.map((w) => k.server(w.user, w.server)), k.activity]
    const fields = wanted.map((w) => activityField(w.user, w.server))
    const out = JSON.parse(await this.redis.readServerBundles(serverKeys.length, ...serverKeys, ...fields)) as string[][]
    const seenValues = list(out[wanted.length] as Array<string | false>)
    let j = 0
    return found.map((f) => {
      const servers: ServerRecord[] = []
      const seen = new Map<string, number>()
      for (const name of f.serverNames) {
        const rec = serverFromHash(f.user.name, name, pairs(out[j] as string[]))
        const at = seenValues[j++]
        if (rec) servers.push(rec)
        if (rec && at) seen.set(name, Number(at))
      }
      return { user: f.user, groups: f.groups, servers, seen }
    })
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    readUserBundles(numKeys: number, ...keysAndArgs: string[]): Result<string, Context>
    readServerBundles(numKeys: number, ...keysAndArgs: string[]): Result<string, Context>
  }
}
