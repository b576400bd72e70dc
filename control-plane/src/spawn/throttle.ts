// The admission of spawns, across every replica: the concurrent spawn limit (JupyterHub's
// concurrent_spawn_limit) and the active server limit (active_server_limit, active-limit.ts). Each
// spawn in progress holds an entry in one Redis sorted set, scored with the time (Redis's clock) after
// which it no longer counts, so a replica that dies mid-spawn cannot hold its entries for ever. Both
// limits are checked and the entry added in one script, so two replicas cannot both take the last place.
import { randomInt } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { SpawnThrottled } from '../errors'
import { ActiveServerLimitReached, COUNT_ACTIVE_LUA } from './active-limit'

// KEYS: the pending-spawn set, the active-server set. ARGV: member, concurrent limit, lifetime ms,
// active limit (0 = none). 1 = admitted, 0 = too many spawns, -1 = too many active servers.
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local concurrent, activeLimit = tonumber(ARGV[2]), tonumber(ARGV[4])
if concurrent > 0 and redis.call('ZCARD', KEYS[1]) >= concurrent then return 0 end
if activeLimit > 0 then
  local spawning, activeKey = redis.call('ZRANGE', KEYS[1], 0, -1), KEYS[2]
  ${COUNT_ACTIVE_LUA}
  if active >= activeLimit then return -1 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
`

export interface SpawnLimits {
  /** Most spawns in progress at once (hub.concurrentSpawnLimit); 0 = none. */
  concurrent: number
  /** Most servers active at once (hub.activeServerLimit); 0 = none. */
  active: number
}

/** JupyterHub's spawn_throttle_retry_range: how long a refused user is told to wait, picked at random. */
const RETRY_AFTER_SEC: [number, number] = [30, 60]

export interface SpawnSlot {
  release(): Promise<void>
}

export class SpawnThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: { pending: string; active: string },
    private readonly limits: SpawnLimits,
    /** How long an entry counts at most: longer than any spawn can take. */
    private readonly lifetimeMs: number,
  ) {
    if (!redis.admitSpawn) redis.defineCommand('admitSpawn', { numberOfKeys: 2, lua: ADMIT_SCRIPT })
  }

  /**
   * Takes a slot for one spawn (member: "USER/SERVER#FENCE", unique to it); SpawnThrottled when
   * `limits.concurrent` are taken, ActiveServerLimitReached when `limits.active` servers are active.
   */
  async admit(member: string): Promise<SpawnSlot> {
    const { concurrent, active } = this.limits
    if (concurrent <= 0 && active <= 0) return { release: async () => {} }
    const verdict = await this.redis.admitSpawn(this.keys.pending, this.keys.active, member, concurrent, this.lifetimeMs, active)
    if (verdict === -1) throw new ActiveServerLimitReached()
    if (verdict === 0) {
      const retryAfterSec = randomInt(RETRY_AFTER_SEC[0], RETRY_AFTER_SEC[1])
      throw new SpawnThrottled(`Too many users trying to log in right now. Try again in ${Math.ceil(retryAfterSec / 10)}0 seconds.`, retryAfterSec)
    }
    return { release: async () => void (await this.redis.zrem(this.keys.pending, member)) }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    admitSpawn(pending: string, active: string, member: string, concurrent: number, lifetimeMs: number, activeLimit: number): Result<number, Context>
  }
}
