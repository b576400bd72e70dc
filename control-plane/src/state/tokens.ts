// API tokens: the token itself is shown once; Redis keeps only its SHA-256 digest.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { NotFound } from '../../../runtime/src/errors'
import type { KeyNames } from './keys'
import type { ProxyTables } from './proxy-tables'
import { tokenDigest } from './token-digest'
import { tokenEdgeGrant } from '../scopes/edge'
import { decodeEpochSec, decodeJson, isStringList } from './undecodable'
import { TOKEN_LIFETIME_CAP_SEC } from './token-lifetime'

export interface TokenRecord {
  id: string
  /** The owning user ('' for a service's token). */
  user: string
  /** The owning service, for a service's token. */
  service: string
  kind: 'api' | 'server'
  server: string
  note: string
  created: string
  expiresAt: string | null
  lastActivity: string | null
  /** Raw scopes as requested (`inherit` = everything the owner may do). */
  scopes: string[]
  /** The login session it was issued in (OAuth tokens), if any. */
  sessionId: string | null
  /** The OAuth client it was issued to, if any. */
  clientId: string | null
}

/** What a token gets when nobody asked for less: JupyterHub's `token` and `server` roles. */
export const DEFAULT_TOKEN_SCOPES = {
  api: ['inherit'],
  server: ['users:activity!user', 'access:servers!server'],
} as const

/** The record, or undefined when there is none or it cannot be decoded (reported, then skipped). */
function fromHash(h: Record<string, string>, key: string): TokenRecord | undefined {
  if (!h.id) return undefined
  const kind = h.kind === 'server' ? 'server' : 'api'
  const expiresAt = h.expires_at ? decodeEpochSec(key, 'expires_at', h.expires_at) : null
  const scopes = h.scopes ? decodeJson(key, 'scopes', h.scopes, isStringList) : [...DEFAULT_TOKEN_SCOPES[kind]]
  if (expiresAt === undefined || scopes === undefined) return undefined
  return {
    id: h.id,
    user: h.user ?? '',
    service: h.service ?? '',
    kind,
    server: h.server ?? '',
    note: h.note ?? '',
    created: h.created ?? '',
    expiresAt,
    lastActivity: h.last_activity || null,
    scopes,
    sessionId: h.session_id || null,
    clientId: h.client_id || null,
  }
}

/** The proxy's view of a token: its owner, expiry and, unless it inherits, its own access:servers. */
function edgeEntry(user: string, expiresAt: number, scopesJson: string | undefined, server: string) {
  const access = scopesJson ? tokenEdgeGrant(JSON.parse(scopesJson), user, server) : undefined
  return access === undefined ? { user, expires_at: expiresAt } : { user, expires_at: expiresAt, access }
}

const TOUCH_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'id') == 1 then redis.call('HSET', KEYS[1], 'last_activity', ARGV[1]) end
return 0`

export class Tokens {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly tables: ProxyTables,
  ) {}

  /** Makes a new token for user; the returned `token` is never stored. */
  async issue(
    user: string,
    opts: {
      note?: string
      expiresInSec?: number
      kind?: 'api' | 'server'
      server?: string
      scopes?: readonly string[]
      sessionId?: string
      clientId?: string
      token?: string
    } = {},
  ): Promise<{ token: string; record: TokenRecord }> {
    const token = opts.token ?? randomBytes(24).toString('base64url')
    const id = `a${randomBytes(6).toString('hex')}`
    const digest = tokenDigest(token)
    const lifetime = opts.expiresInSec
    if (lifetime !== undefined && !(lifetime > 0 && lifetime <= TOKEN_LIFETIME_CAP_SEC))
      throw new Error(`token lifetime ${lifetime} s is outside 1..${TOKEN_LIFETIME_CAP_SEC}`)
    const expiresAt = lifetime ? Math.floor(Date.now() / 1000 + lifetime) : 0
    const fields = {
      id,
      user,
      digest,
      kind: opts.kind ?? 'api',
      server: opts.server ?? '',
      note: opts.note ?? '',
      created: new Date().toISOString(),
      expires_at: expiresAt ? String(expiresAt) : '',
      scopes: JSON.stringify(opts.scopes ?? DEFAULT_TOKEN_SCOPES[opts.kind ?? 'api']),
      session_id: opts.sessionId ?? '',
      client_id: opts.clientId ?? '',
    }
    const m = this.redis
      .multi()
      .hset(this.keys.token(id), fields)
      .sadd(this.keys.userTokens(user), id)
      .hset(this.keys.tokenByDigest, digest, id)
    if (expiresAt) m.zadd(this.keys.tokenExpiry, expiresAt, id) // removed by sweepExpired
    await m.exec()
    await this.tables.set('tokens', digest, edgeEntry(user, expiresAt, fields.scopes, fields.server))
    return { token, record: fromHash(fields, this.keys.token(id))! }
  }

  /** The record of a presented token, when it exists and has not expired. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    const id = await this.redis.hget(this.keys.tokenByDigest, tokenDigest(token))
    if (!id) return undefined
    const rec = fromHash(await this.redis.hgetall(this.keys.token(id)), this.keys.token(id))
    if (!rec || (rec.expiresAt && Date.parse(rec.expiresAt) <= Date.now())) return undefined
    return rec
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    return fromHash(await this.redis.hgetall(this.keys.token(id)), this.keys.token(id))
  }

  /**
   * Who a token belongs to, read without decoding the rest of its record: a token whose record
   * cannot be decoded can still be revoked by its owner.
   */
  async ownerOf(id: string): Promise<{ user: string; service: string } | undefined> {
    const [exists, user, service] = await this.redis.hmget(this.keys.token(id), 'id', 'user', 'service')
    return exists ? { user: user ?? '', service: service ?? '' } : undefined
  }

  /** Notes that the token was used (ISO time; callers limit how often). */
  async touch(id: string, when = new Date()): Promise<void> {
    await this.redis.eval(TOUCH_SCRIPT, 1, this.keys.token(id), when.toISOString())
  }

  async list(user: string): Promise<TokenRecord[]> {
    const ids = await this.redis.smembers(this.keys.userTokens(user))
    const recs = await Promise.all(
      ids.map(async (id) => fromHash(await this.redis.hgetall(this.keys.token(id)), this.keys.token(id))),
    )
    return recs.filter((r): r is TokenRecord => !!r).sort((a, b) => a.created.localeCompare(b.created))
  }

  async revoke(id: string): Promise<void> {
    const h = await this.redis.hgetall(this.keys.token(id))
    if (!h.id) throw new NotFound(`token ${id} not found`)
    if (h.digest) await this.tables.del('tokens', h.digest)
    await this.redis
      .multi()
      .del(this.keys.token(id))
      .srem(h.service ? this.keys.serviceTokens(h.service) : this.keys.userTokens(h.user), id)
      .hdel(this.keys.tokenByDigest, h.digest ?? '')
      .zrem(this.keys.tokenExpiry, id)
      .exec()
  }

  /** Removes tokens past their expiry everywhere (proxies already refuse them by their expiry). */
  async sweepExpired(nowSec = Math.floor(Date.now() / 1000)): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.tokenExpiry, '-inf', nowSec)
    for (const id of ids) {
      await this.revoke(id).catch((err) => {
        if (!(err instanceof NotFound)) throw err
      })
      await this.redis.zrem(this.keys.tokenExpiry, id)
    }
    return ids.length
  }

  /** Revokes every token of user (the user is being deleted), those whose records cannot be decoded too. */
  async revokeAll(user: string): Promise<void> {
    for (const id of await this.redis.smembers(this.keys.userTokens(user))) {
      await this.revoke(id).catch((err) => {
        if (!(err instanceof NotFound)) throw err
      })
    }
    await this.redis.del(this.keys.userTokens(user))
  }

  /** Gives every token of `from` to `to` (a renamed user); the proxy's view follows. */
  async reassign(from: string, to: string): Promise<void> {
    for (const id of await this.redis.smembers(this.keys.userTokens(from))) {
      const h = await this.redis.hgetall(this.keys.token(id))
      if (!h.id) continue
      const rec = fromHash(h, this.keys.token(id))
      if (!rec) {
        // unusable already (verify refuses it): it does not follow the user to a name it was not issued under
        await this.revoke(id)
        continue
      }
      await this.redis
        .multi()
        .hset(this.keys.token(id), 'user', to)
        .sadd(this.keys.userTokens(to), id)
        .srem(this.keys.userTokens(from), id)
        .exec()
      await this.tables.set(
        'tokens',
        h.digest,
        edgeEntry(to, rec.expiresAt ? Date.parse(rec.expiresAt) / 1000 : 0, h.scopes, h.server ?? ''),
      )
    }
  }

  /**
   * Makes `token` the one API token of a configured service (its earlier ones are revoked), with the
   * service's access:servers grant for the proxy (`access`: computed by the caller from its roles).
   */
  async setServiceToken(service: string, token: string, access: unknown): Promise<TokenRecord> {
    const digest = tokenDigest(token)
    const existing = await this.redis.hget(this.keys.tokenByDigest, digest)
    for (const id of await this.redis.smembers(this.keys.serviceTokens(service)))
      if (id !== existing) await this.revoke(id)
    const id = existing ?? `s${randomBytes(6).toString('hex')}`
    const fields = {
      id,
      user: '',
      service,
      digest,
      kind: 'api',
      server: '',
      note: `API token of service ${service}`,
      created: new Date().toISOString(),
      expires_at: '',
      scopes: JSON.stringify(['inherit']),
      session_id: '',
      client_id: '',
    }
    if (!existing)
      await this.redis
        .multi()
        .hset(this.keys.token(id), fields)
        .sadd(this.keys.serviceTokens(service), id)
        .sadd(this.keys.tokenServices, service)
        .hset(this.keys.tokenByDigest, digest, id)
        .exec()
    await this.tables.set('tokens', digest, { service, expires_at: 0, access })
    return (await this.get(id))!
  }

  /** Services that hold tokens (configured or not). */
  async servicesWithTokens(): Promise<string[]> {
    return (await this.redis.smembers(this.keys.tokenServices)).sort()
  }

  /** Rewrites the proxy's view of a service's tokens with its current grant (its roles changed). */
  async refreshServiceGrant(service: string, access: unknown): Promise<void> {
    for (const id of await this.redis.smembers(this.keys.serviceTokens(service))) {
      const digest = await this.redis.hget(this.keys.token(id), 'digest')
      if (digest) await this.tables.set('tokens', digest, { service, expires_at: 0, access })
    }
  }

  /** Revokes every token of a service (no longer configured). */
  async revokeService(service: string): Promise<void> {
    for (const id of await this.redis.smembers(this.keys.serviceTokens(service))) {
      await this.revoke(id).catch((err) => {
        if (!(err instanceof NotFound)) throw err
      })
    }
    await this.redis.multi().del(this.keys.serviceTokens(service)).srem(this.keys.tokenServices, service).exec()
  }

  /** Revokes every token of user that belongs to server (kind 'server'). */
  async revokeServerTokens(user: string, server: string): Promise<void> {
    for (const t of await this.list(user)) if (t.kind === 'server' && t.server === server) await this.revoke(t.id)
  }
}
