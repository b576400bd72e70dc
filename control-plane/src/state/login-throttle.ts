// Login throttling shared by every hub replica, kept in Redis: failed logins are counted per user
// name (whether or not the user exists) and per client address. Past `freeFailures` a name, and past
// `addressFreeFailures` an address, must wait before its next attempt, the wait doubling with each
// further failure up to maxDelaySec; at `lockoutFailures` a name is locked until an admin unlocks it
// or lockoutSec passes. An address is only ever delayed, never locked: many people can share one
// (a NAT, a campus proxy), and one of them must not be able to lock the others out.
import type { Redis, Result } from 'ioredis'
import type { KeyNames } from './keys'

export interface ThrottleSettings {
  enabled: boolean
  freeFailures: number
  addressFreeFailures: number
  baseDelaySec: number
  maxDelaySec: number
  lockoutFailures: number
  lockoutSec: number
  forgetAfterSec: number
}

/** Whether an attempt may check its password now. */
export type ThrottleVerdict = { ok: true } | { ok: false; locked: boolean; retryAfterSec: number }

// KEYS: the counter hash. ARGV: now ms, free failures, base delay ms, max delay ms, lockout failures
// (0: never), lockout ms, forget-after ms. Counts a failure; from the free ones on, sets `until`
// (epoch ms before which no attempt is checked); at the lockout count, sets `locked`.
const FAIL_SCRIPT = `
local now, free, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lockout, lockoutMs, forgetMs = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local ttl = forgetMs
if lockout > 0 and count >= lockout then
  redis.call('HSET', KEYS[1], 'locked', '1')
  ttl = lockoutMs
elseif count > free then
  local delay = math.min(max, base * 2 ^ math.min(count - free - 1, 40))
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + delay))
  ttl = math.max(ttl, delay)
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
return count`

export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly s: ThrottleSettings,
  ) {
    if (!redis.loginFailed) redis.defineCommand('loginFailed', { numberOfKeys: 1, lua: FAIL_SCRIPT })
  }

  /** May this attempt (a normalized name, from address) check a password now? Asked before checking it. */
  async check(name: string, address: string, now = Date.now()): Promise<ThrottleVerdict> {
    if (!this.s.enabled) return { ok: true }
    const [[, user], [, addr]] = (await this.redis
      .pipeline()
      .hmget(this.keys.loginFail(name), 'locked', 'until')
      .hmget(this.keys.loginFailAddress(address), 'until')
      .exec()) as [[null, Array<string | null>], [null, Array<string | null>]]
    if (user[0] === '1') {
      const ttl = await this.redis.pttl(this.keys.loginFail(name))
      return { ok: false, locked: true, retryAfterSec: Math.max(1, Math.ceil(ttl / 1000)) }
    }
    const until = Math.max(Number(user[1] ?? 0) || 0, Number(addr[0] ?? 0) || 0)
    return until > now
      ? { ok: false, locked: false, retryAfterSec: Math.max(1, Math.ceil((until - now) / 1000)) }
      : { ok: true }
  }

  /** Counts a failed attempt against the name and the address. */
  async failed(name: string, address: string, now = Date.now()): Promise<void> {
    if (!this.s.enabled) return
    const s = this.s
    const common = [String(now), String(s.baseDelaySec * 1000), String(s.maxDelaySec * 1000)]
    await Promise.all([
      this.redis.loginFailed(
        this.keys.loginFail(name),
        common[0],
        String(s.freeFailures),
        common[1],
        common[2],
        String(s.lockoutFailures),
        String(s.lockoutSec * 1000),
        String(s.forgetAfterSec * 1000),
      ),
      this.redis.loginFailed(
        this.keys.loginFailAddress(address),
        common[0],
        String(s.addressFreeFailures),
        common[1],
        common[2],
        '0',
        '0',
        String(s.forgetAfterSec * 1000),
      ),
    ])
  }

  /** A successful login forgets the name's failures (not the address's: a good login must not wipe an attacker's record). */
  async succeeded(name: string): Promise<void> {
    if (this.s.enabled) await this.redis.del(this.keys.loginFail(name))
  }

  /** Failed logins counted against a name, and whether it is locked. */
  async state(name: string): Promise<{ failures: number; locked: boolean }> {
    const [count, locked] = await this.redis.hmget(this.keys.loginFail(name), 'count', 'locked')
    return { failures: Number(count ?? 0) || 0, locked: locked === '1' }
  }

  /** An admin's unlock: the name's failures and lock are forgotten. True when there was something to forget. */
  async unlock(name: string): Promise<boolean> {
    return (await this.redis.del(this.keys.loginFail(name))) === 1
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    loginFailed(key: string, ...argv: string[]): Result<number, Context>
  }
}
