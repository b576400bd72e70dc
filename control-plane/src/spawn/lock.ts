// Per-server lock across replicas: a Redis key with a lease, renewed while held, released only by its holder.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`

export interface HeldLock {
  readonly lost: boolean
  release(): Promise<void>
}

export async function acquireLock(redis: Redis, key: string, leaseMs = 15_000): Promise<HeldLock | null> {
  const holder = randomBytes(12).toString('base64url')
  if ((await redis.set(key, holder, 'PX', leaseMs, 'NX')) !== 'OK') return null
  let lost = false
  const timer = setInterval(async () => {
    try {
      if (!(await redis.eval(RENEW, 1, key, holder, leaseMs))) lost = true
    } catch {
      /* Redis away: the lease runs out unless a later renewal gets through */
    }
  }, leaseMs / 3)
  timer.unref()
  return {
    get lost() {
      return lost
    },
    async release() {
      clearInterval(timer)
      await redis.eval(RELEASE, 1, key, holder)
    },
  }
}
