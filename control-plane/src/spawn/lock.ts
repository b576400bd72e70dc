// Per-server lock across replicas: a Redis key with a lease, renewed while held, released only by its
// holder. Each acquisition also takes the next value of the lock's fence counter as its fencing token;
// writes to the server's record and route carry the guard { counter key, token }, and the Redis
// scripts that make them refuse a token lower than the counter: once anyone else has acquired the
// lock, a stalled former holder can write nothing more (servers.ts, proxy-tables.ts).
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { FencedOut } from '../../../runtime/src/errors'

export interface Guard {
  /** The lock's fence counter. */
  key: string
  fence: number
}

// KEYS: lock, fence counter. ARGV: holder, lease ms.
const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return 0`
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

export interface HeldLock {
  /** Fencing token: larger than that of every earlier holder of this lock. */
  readonly fence: number
  readonly guard: Guard
  /** Throws FencedOut when someone has acquired the lock since (this holder outlived its lease). */
  check(): Promise<void>
  release(): Promise<void>
}

/**
 * replicas: with Sentinel, wait (up to 200 ms) until that many replicas have the acquisition, so a
 * failover right after it cannot hand the same fencing token to a second holder.
 */
export async function acquireLock(
  redis: Redis,
  key: string,
  leaseMs: number,
  { replicas = 0 } = {},
): Promise<HeldLock | null> {
  const holder = randomBytes(12).toString('base64url')
  const fence = Number(await redis.eval(ACQUIRE, 2, key, `${key}:fence`, holder, leaseMs))
  if (!fence) return null
  if (replicas > 0) await redis.wait(replicas, 200)
  const timer = setInterval(async () => {
    try {
      await redis.eval(RENEW, 1, key, holder, leaseMs) // 0 once the lease was lost: check() tells
    } catch {
      /* Redis away: the lease runs out unless a later renewal gets through */
    }
  }, leaseMs / 3)
  timer.unref()
  const guard = { key: `${key}:fence`, fence }
  return {
    fence,
    guard,
    async check() {
      if (Number(await redis.get(guard.key)) > fence) throw new FencedOut(`lock ${key} was taken over (fence ${fence})`)
    },
    async release() {
      clearInterval(timer)
      await redis.eval(RELEASE, 1, key, holder)
    },
  }
}
