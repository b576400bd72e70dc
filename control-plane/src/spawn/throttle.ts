// The concurrent spawn limit (JupyterHub's concurrent_spawn_limit), across every replica: each spawn
// in progress holds an entry in one Redis sorted set, scored with the time (Redis's clock) after which
// it no longer counts, so a replica that dies mid-spawn cannot hold its entries for ever.
import { randomInt } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import { SpawnThrottled } from '../errors'

// KEYS: the set. ARGV: member, limit, lifetime ms. 1 = admitted, 0 = refused.
const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
return 1
`

/** JupyterHub's spawn_throttle_retry_range: how long a refused user is told to wait, picked at random. */
const RETRY_AFTER_SEC: [number, number] = [30, 60]

export interface SpawnSlot {
  release(): Promise<void>
}

export class SpawnThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly limit: number,
    /** How long an entry counts at most: longer than any spawn can take. */
    private readonly lifetimeMs: number,
  ) {
    if (!redis.admitSpawn) redis.defineCommand('admitSpawn', { numberOfKeys: 1, lua: ADMIT_SCRIPT })
  }

  /** Takes a slot for one spawn (member: unique to it); SpawnThrottled when `limit` are taken. */
  async admit(member: string): Promise<SpawnSlot> {
    if (this.limit <= 0) return { release: async () => {} }
    if (!(await this.redis.admitSpawn(this.key, member, this.limit, this.lifetimeMs))) {
      const retryAfterSec = randomInt(RETRY_AFTER_SEC[0], RETRY_AFTER_SEC[1])
      throw new SpawnThrottled(`Too many users trying to log in right now. Try again in ${Math.ceil(retryAfterSec / 10)}0 seconds.`, retryAfterSec)
    }
    return { release: async () => void (await this.redis.zrem(this.key, member)) }
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    admitSpawn(key: string, member: string, limit: number, lifetimeMs: number): Result<number, Context>
  }
}
