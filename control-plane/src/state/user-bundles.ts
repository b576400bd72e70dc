// Everything the user models of a page need — each user's record, groups, servers and their
// activity — read in one script call whatever the page size, answering one JSON string: a pipeline
// of a thousand commands, or a reply of thousands of RESP elements, costs the hub several times
// more CPU to decode than JSON.parse of the same data. The script takes the page's names (one JSON
// argument) and builds each user's keys itself from the key heads: a page of 200 users as 600 key
// arguments cost the hub ≈ 0.4 ms more to send than as one argument (ioredis handles every argument
// apart), a fifth of the page's whole cost.
import type { Redis, Result } from 'ioredis'
import { activityField } from './activity'
import type { KeyNames } from './keys'
import { serverFromHash, type ServerRecord } from './servers'
import { userFromHash, type UserRecord } from './users'

// KEYS: the activity hash. ARGV: the heads of the user, user-groups, servers and server keys (a
// key is its head followed by the user name, or by "user/server" for a server), then the names as
// a JSON list. Returns per user [record, groups, server names, server records, activity values
// (false where none)] as JSON (Redis's cjson writes an empty list as {}).
const SCRIPT = `
local user_head, groups_head, servers_head, server_head = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out = {}
for i, name in ipairs(cjson.decode(ARGV[5])) do
  local servers = redis.call('SMEMBERS', servers_head .. name)
  local records, seen = {}, {}
  for j, server in ipairs(servers) do
    local field = name .. '/' .. server
    records[j] = redis.call('HGETALL', server_head .. field)
    seen[j] = redis.call('HGET', KEYS[1], field)
  end
  out[i] = { redis.call('HGETALL', user_head .. name), redis.call('SMEMBERS', groups_head .. name), servers, records, seen }
end
return cjson.encode(out)`

type Flat = string[] | Record<string, never>
type Reply = [Flat, Flat, Flat, Flat[] | Record<string, never>, Array<string | false> | Record<string, never>]

export interface UserBundle {
  user: UserRecord
  /** Sorted. */
  groups: string[]
  /** Sorted by name. */
  servers: ServerRecord[]
  /** Last activity the proxies reported per server, epoch ms, by server name. */
  seen: Map<string, number>
}

/** A list from the script's JSON ({} when empty). */
const list = <T>(v: T[] | Record<string, never>): T[] => (Array.isArray(v) ? v : [])

/** A flat [field, value, …] reply as an object. */
function pairs(flat: Flat): Record<string, string> {
  const h: Record<string, string> = {}
  const a = list(flat)
  for (let i = 0; i < a.length; i += 2) h[a[i]] = a[i + 1]
  return h
}

/** The part of a key name before the name(s) it is built from; checked against the key's function. */
function head(make: (...names: string[]) => string, ...names: string[]): string {
  const tail = names.length === 2 ? activityField(names[0], names[1]) : names[0]
  const key = make(...names)
  if (!key.endsWith(tail)) throw new Error(`key ${key} does not end with ${tail}: the user-bundles script cannot build it`)
  return key.slice(0, key.length - tail.length)
}

export class UserBundles {
  private readonly heads: string[]

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {
    if (!redis.readUserBundles) redis.defineCommand('readUserBundles', { numberOfKeys: 1, lua: SCRIPT })
    this.heads = [head(keys.user, 'u'), head(keys.userGroups, 'u'), head(keys.userServers, 'u'), head(keys.server, 'u', 's')]
  }

  /** The bundles of these users, in their order; users that do not exist are left out. */
  async read(names: readonly string[]): Promise<UserBundle[]> {
    if (names.length === 0) return []
    const replies = JSON.parse(await this.redis.readUserBundles(this.keys.activity, ...this.heads, JSON.stringify(names))) as Reply[]
    const out: UserBundle[] = []
    for (const [record, groups, serverNames, records, seenValues] of replies) {
      const user = userFromHash(pairs(record))
      if (!user) continue
      const [recs, ats] = [list(records), list(seenValues)]
      const rows = list(serverNames).map((name, j) => ({ name, rec: recs[j], at: ats[j] }))
      rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const servers: ServerRecord[] = []
      const seen = new Map<string, number>()
      for (const row of rows) {
        const rec = serverFromHash(user.name, row.name, pairs(row.rec))
        if (!rec) continue
        servers.push(rec)
        if (row.at) seen.set(row.name, Number(row.at))
      }
      out.push({ user, groups: list(groups).sort(), servers, seen })
    }
    return out
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    readUserBundles(activityKey: string, ...args: string[]): Result<string, Context>
  }
}
