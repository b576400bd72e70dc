// Login sessions: a Redis record per session, a signed cookie naming it, revocation copied to proxies.
import type { Redis } from 'ioredis'
import type { KeyNames } from '../state/keys'
import type { ProxyTables } from '../state/proxy-tables'
import type { CookieKeys } from './cookie-keys'
import { newSessionId, parseCookie, signCookie, verifyCookie } from './cookie'

export interface Session {
  sid: string
  user: string
  exp: number
}

export class Sessions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly tables: ProxyTables,
    private readonly cookieKeys: CookieKeys,
    private readonly maxAgeSec: number,
  ) {}

  async create(user: string): Promise<{ cookie: string; session: Session }> {
    const sid = newSessionId()
    const exp = Math.floor(Date.now() / 1000 + this.maxAgeSec)
    const { kid, secret } = await this.cookieKeys.current()
    await this.redis
      .multi()
      .hset(this.keys.session(sid), { user, created: new Date().toISOString(), expires_at: String(exp) })
      .expireat(this.keys.session(sid), exp)
      .sadd(this.keys.userSessions(user), sid)
      .zadd(this.keys.sessionExpiry, exp, `${sid}:${user}`)
      .exec()
    return { cookie: signCookie({ kid, user, sid, exp }, secret), session: { sid, user, exp } }
  }

  /** The live session a cookie names, or null (bad signature, expired, revoked). */
  async verify(cookie: string | undefined): Promise<Session | null> {
    if (!cookie || cookie.length > 4096) return null // the proxy's limit too
    const kid = parseCookie(cookie)?.kid
    if (!kid) return null
    const secret = await this.cookieKeys.secret(kid)
    const claims = verifyCookie(cookie, () => secret)
    if (!claims) return null
    const user = await this.redis.hget(this.keys.session(claims.sid), 'user')
    if (user !== claims.user) return null
    return { sid: claims.sid, user: claims.user, exp: claims.exp }
  }

  /** Ends a session on the hub and, through the revocation table, on every proxy. */
  async revoke(sid: string): Promise<void> {
    const h = await this.redis.hgetall(this.keys.session(sid))
    const exp = Number(h.expires_at) || Math.floor(Date.now() / 1000 + this.maxAgeSec)
    await this.tables.set('revoked', sid, exp)
    await this.redis
      .multi()
      .del(this.keys.session(sid))
      .srem(this.keys.userSessions(h.user ?? ''), sid)
      .zrem(this.keys.sessionExpiry, `${sid}:${h.user ?? ''}`)
      .exec()
  }

  /** Forgets sessions past their expiry (their records expire in Redis by themselves). */
  async sweepExpired(nowSec = Math.floor(Date.now() / 1000)): Promise<number> {
    const members = await this.redis.zrangebyscore(this.keys.sessionExpiry, '-inf', nowSec)
    for (const m of members) {
      const i = m.indexOf(':')
      await this.redis
        .multi()
        .srem(this.keys.userSessions(m.slice(i + 1)), m.slice(0, i))
        .zrem(this.keys.sessionExpiry, m)
        .exec()
    }
    return members.length
  }

  async revokeAll(user: string, opts: { except?: string } = {}): Promise<void> {
    for (const sid of await this.redis.smembers(this.keys.userSessions(user)))
      if (sid !== opts.except) await this.revoke(sid)
  }

  /** Drops revocation entries whose sessions would have expired anyway. */
  async sweepRevoked(nowSec = Math.floor(Date.now() / 1000)): Promise<number> {
    let n = 0
    for (const [sid, exp] of Object.entries(await this.tables.getAll<number>('revoked'))) {
      if (exp < nowSec) {
        await this.tables.del('revoked', sid)
        n++
      }
    }
    return n
  }
}
