// The admission of spawns, across every replica: the named server limit (JupyterHub's
// named_server_limit_per_user, named-limit.ts), the concurrent spawn limit (concurrent_spawn_limit)
// and the active server limit (active_server_limit, active-limit.ts), judged in that order, as
// JupyterHub does. Each spawn in progress holds an entry in one Redis sorted set, scored with the time
// (Redis's clock) after which it no longer counts, so a replica that dies mid-spawn cannot hold its
// entries for ever. The limits are checked and the entry added in one script, so two replicas cannot
// both take the last place.
import { randomInt } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { SpawnThrottled } from '../../../runtime/src/errors'
import { ActiveServerLimitReached, COUNT_ACTIVE_LUA } from './active-limit'
import { COUNT_NAMED_LUA, NamedServerLimitReached } from './named-limit'

// KEYS: the pending-spawn set, the active-server set, the user's server set. ARGV: member, concurrent
// limit, lifetime ms, active limit, named limit (0 = none), user, server. {1} = admitted, {0} = too
// many spawns, {-1} = too many active servers, {-2, N} = the user has N other named servers active.
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local concurrent, activeLimit, namedLimit = tonumber(ARGV[2]), tonumber(ARGV[4]), tonumber(ARGV[5])
local spawning, activeKey, userServersKey, user, server = nil, KEYS[2], KEYS[3], ARGV[6], ARGV[7]
if namedLimit > 0 and server ~= '' then
  spawning = redis.call('ZRANGE', KEYS[1], 0, -1)
  ${COUNT_NAMED_LUA}
  if named >= namedLimit then return {-2, named} end
end
if concurrent > 0 and redis.call('ZCARD', KEYS[1]) >= concurrent then return {0} end
if activeLimit > 0 then
  spawning = spawning or redis.call('ZRANGE', KEYS[1], 0, -1)
  ${COUNT_ACTIVE_LUA}
  if active >= activeLimit then return {-1} end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return {1}
`

export interface SpawnLimits {
  /** Most spawns in progress at once (hub.concurrentSpawnLimit); 0 = none. */
  concurrent: number
  /** Most servers active at once (hub.activeServerLimit); 0 = none. */
  active: number
  /** Most named servers of one user active at once (hub.namedServerLimitPerUser); 0 = none. */
  namedPerUser: number
}

export interface SpawnThrottleKeys {
  pending: string
  active: string
  userServers(user: string): string
}

/** JupyterHub's spawn_throttle_retry_range: how long a refused user is told to wait, picked at random. */
const RETRY_AFTER_SEC: [number, number] = [30, 60]

export interface SpawnSlot {
  release(): Promise<void>
}

export class SpawnThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: SpawnThrottleKeys,
    private readonly limits: SpawnLimits,
    /** How long an entry counts at most: longer than any spawn can take. */
    private readonly lifetimeMs: number,
  ) {
    if (!redis.admitSpawn) redis.defineCommand('admitSpawn', { numberOfKeys: 3, lua: ADMIT_SCRIPT })
  }

  /**
   * Takes a slot for one spawn of USER's SERVER ('' the default), `fence` its lock's fencing token,
   * which makes the entry "USER/SERVER#FENCE" this spawn's own. NamedServerLimitReached when the user
   * has `limits.namedPerUser` other named servers active, SpawnThrottled when `limits.concurrent`
   * spawns are in progress, ActiveServerLimitReached when `limits.active` servers are active.
   */
  async admit(user: string, server: string, fence: number): Promise<SpawnSlot> {
    const { concurrent, active, namedPerUser } = this.limits
    const named = server ? namedPerUser : 0
    if (concurrent <= 0 && active <= 0 && named <= 0) return { release: async () => {} }
    const member = `${user}/${server}#${fence}`
    const [verdict, count] = await this.redis.admitSpawn(
      this.keys.pending,
      this.keys.active,
      this.keys.userServers(user),
      member,
      concurrent,
      this.lifetimeMs,
      active,
      named,
      user,
      server,
    )
    if (verdict === -2) throw new NamedServerLimitReached(user, count ?? 0, named)
    if (verdict === -1) throw new ActiveServerLimitReached()
    if (verdict === 0) {
      const retryAfterSec = randomInt(RETRY_AFTER_SEC[0], RETRY_AFTER_SEC[1])
      throw new SpawnThrottled(
        `Too many users trying to log in right now. Try again in ${Math.ceil(retryAfterSec / 10)}0 seconds.`,
        retryAfterSec,
      )
    }
    return { release: async () => void (await this.redis.zrem(this.keys.pending, member)) }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    admitSpawn(
      pending: string,
      active: string,
      userServers: string,
      member: string,
      concurrent: number,
      lifetimeMs: number,
      activeLimit: number,
      namedLimit: number,
      user: string,
      server: string,
    ): Result<[number, number?], Context>
  }
}
