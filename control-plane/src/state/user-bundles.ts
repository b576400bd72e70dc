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

// The hash fields the models show (all that userFromHash and serverModel read): a page never reads
// password hashes, server tokens, spawner state or spawn logs (HMGET answers false for a field that
// is not there).
const USER_FIELDS = ['name', 'admin', 'approved', 'created', 'last_activity'] as const
const SERVER_FIELDS = ['state', 'started', 'last_activity', 'user_options', 'display_name'] as const

// KEYS: the activity hash. ARGV: the heads of the user, user-groups, servers and server keys (a
// key is its head followed by the user name, or by "user/server" for a server), the user and the
// server fields (JSON lists), then the names (a JSON list). Returns per user [user fields, groups,
// server names, server fields, activity values (false where none)] as JSON (Redis's cjson writes an
// empty list as {}).
const SCRIPT = `
local user_head, groups_head, servers_head, server_head = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local user_fields, server_fields = cjson.decode(ARGV[5]), cjson.decode(ARGV[6])
local out = {}
for i, name in ipairs(cjson.decode(ARGV[7])) do
  local servers = redis.call('SMEMBERS', servers_head .. name)
  local records, seen = {}, {}
  for j, server in ipairs(servers) do
    local field = name .. '/' .. server
    records[j] = redis.call('HMGET', server_head .. field, unpack(server_fields))
    seen[j] = redis.call('HGET', KEYS[1], field)
  end
  out[i] = { redis.call('HMGET', user_head .. name, unpack(user_fields)), redis.call('SMEMBERS', groups_head .. name), servers, records, seen }
end
return cjson.encode(out)`

type Values = Array<string | false>
type Reply = [
  Values,
  string[] | Record<string, never>,
  string[] | Record<string, never>,
  Values[] | Record<string, never>,
  Values | Record<string, never>,
]

/** What a user model shows of a server. */
export type ServerSummary = Pick<
  ServerRecord,
  'name' | 'state' | 'started' | 'lastActivity' | 'userOptions' | 'displayName'
>

export interface UserBundle {
  user: UserRecord
  /** Sorted. */
  groups: string[]
  /** Sorted by name. */
  servers: ServerSummary[]
  /** Last activity the proxies reported per server, epoch ms, by server name. */
  seen: Map<string, number>
}

/** A list from the script's JSON ({} when empty). */
const list = <T>(v: T[] | Record<string, never>): T[] => (Array.isArray(v) ? v : [])

/** An HMGET reply of these fields as the hash's object (without the fields that are not there). */
function fields(names: readonly string[], values: Values): Record<string, string> {
  const h: Record<string, string> = {}
  for (let i = 0; i < names.length; i++) if (values[i] !== false) h[names[i]] = values[i] as string
  return h
}

/** The part of a key name before the name(s) it is built from; checked against the key's function. */
function head(make: (...names: string[]) => string, ...names: string[]): string {
  const tail = names.length === 2 ? activityField(names[0], names[1]) : names[0]
  const key = make(...names)
  if (!key.endsWith(tail))
    throw new Error(`key ${key} does not end with ${tail}: the user-bundles script cannot build it`)
  return key.slice(0, key.length - tail.length)
}

export class UserBundles {
  private readonly args: string[]

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
  ) {
    if (!redis.readUserBundles) redis.defineCommand('readUserBundles', { numberOfKeys: 1, lua: SCRIPT })
    const heads = [
      head(keys.user, 'u'),
      head(keys.userGroups, 'u'),
      head(keys.userServers, 'u'),
      head(keys.server, 'u', 's'),
    ]
    this.args = [...heads, JSON.stringify(USER_FIELDS), JSON.stringify(SERVER_FIELDS)]
  }

  /** The bundles of these users, in their order; users that do not exist are left out. */
  async read(names: readonly string[]): Promise<UserBundle[]> {
    if (names.length === 0) return []
    const replies = JSON.parse(
      await this.redis.readUserBundles(this.keys.activity, ...this.args, JSON.stringify(names)),
    ) as Reply[]
    const out: UserBundle[] = []
    for (const [record, groups, serverNames, records, seenValues] of replies) {
      const user = userFromHash(fields(USER_FIELDS, record))
      if (!user) continue
      const [recs, ats] = [list(records), list(seenValues)]
      const rows = list(serverNames).map((name, j) => ({ name, rec: recs[j], at: ats[j] }))
      rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      const servers: ServerSummary[] = []
      const seen = new Map<string, number>()
      for (const row of rows) {
        const rec = row.rec && serverFromHash(user.name, row.name, fields(SERVER_FIELDS, row.rec))
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
