// Shares (JupyterHub 5): one user's server shared with another user or with a group, with scopes
// that all carry the server's filter; and share codes, which whoever holds one exchanges for a share
// of their own. Every change republishes the proxy's access entry of each user it concerns
// (scopes/edge.ts), so the edge follows within a stream round trip. Keys: docs/redis-schema.md.
import { randomBytes } from 'node:crypto'
import type { Redis, Result } from 'ioredis'
import type { Deps } from '../deps'
import type { KeyNames } from './keys'
import { tokenDigest } from './token-digest'
import { BadRequest, NotFound } from '../../../runtime/src/errors'
import { publishAccess } from '../scopes/edge'
import { expand, has } from '../scopes/scope-set'
import { decodeJson, isObject, isStringList } from './undecodable'

export type GranteeKind = 'user' | 'group'
export interface Grantee {
  kind: GranteeKind
  name: string
}

export interface ShareRecord {
  owner: string
  /** '' for the default server. */
  server: string
  kind: GranteeKind
  name: string
  /** Raw scopes, each filtered to the server (`access:servers!server=owner/name`). */
  scopes: string[]
  created: string
}

export interface ShareCodeRecord {
  id: string
  owner: string
  server: string
  scopes: string[]
  created: string
  expiresAt: string
  exchangeCount: number
  lastExchangedAt: string | null
}

/** JupyterHub's default lifetime of a share code (one day). */
export const SHARE_CODE_EXPIRES_SEC = 86_400

// KEYS: owner's shares, grantee's shared-with, the server's record (the owner's for the default
// server), the grantee's record. ARGV: field in each hash, scopes (JSON list), created.
// Adds the scopes to an existing share; returns the share's JSON.
const GRANT_SCRIPT = `
if redis.call('EXISTS', KEYS[3]) == 0 then return redis.error_reply('NO_SERVER') end
if redis.call('EXISTS', KEYS[4]) == 0 then return redis.error_reply('NO_GRANTEE') end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local rec
if cur then
  rec = cjson.decode(cur)
  local have = {}
  for _, s in ipairs(rec.scopes) do have[s] = true end
  for _, s in ipairs(cjson.decode(ARGV[3])) do
    if not have[s] then
      have[s] = true
      rec.scopes[#rec.scopes + 1] = s
    end
  end
  table.sort(rec.scopes)
else
  rec = { scopes = cjson.decode(ARGV[3]), created = ARGV[4] }
end
local v = cjson.encode(rec)
redis.call('HSET', KEYS[1], ARGV[1], v)
redis.call('HSET', KEYS[2], ARGV[2], v)
return v
`

// KEYS: owner's shares, grantee's shared-with. ARGV: field in each hash, scopes to take away (JSON
// list; '' = all). Returns what remains (JSON), '' when nothing does, nil when there was no share.
const REVOKE_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
if ARGV[3] ~= '' then
  local rec = cjson.decode(cur)
  local drop = {}
  for _, s in ipairs(cjson.decode(ARGV[3])) do drop[s] = true end
  local keep = {}
  for _, s in ipairs(rec.scopes) do
    if not drop[s] then keep[#keep + 1] = s end
  end
  if #keep == #rec.scopes then return cur end
  if #keep > 0 then
    rec.scopes = keep
    local v = cjson.encode(rec)
    redis.call('HSET', KEYS[1], ARGV[1], v)
    redis.call('HSET', KEYS[2], ARGV[2], v)
    return v
  end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return ''
`

// KEYS: owner's shares. ARGV: owner, server, shared-with key prefix, '1' = every server of the owner.
// Drops the shares on both sides; returns their grantees ("kind:name").
const DROP_SERVER_SCRIPT = `
local h = redis.call('HKEYS', KEYS[1])
local out = {}
for _, f in ipairs(h) do
  local slash = string.find(f, '/', 1, true)
  local server = string.sub(f, 1, slash - 1)
  if ARGV[4] == '1' or server == ARGV[2] then
    local grantee = string.sub(f, slash + 1)
    redis.call('HDEL', KEYS[1], f)
    redis.call('HDEL', ARGV[3] .. grantee, ARGV[1] .. '/' .. server)
    out[#out + 1] = grantee
  end
end
return out
`

// KEYS: the grantee's shared-with. ARGV: owners' shares key prefix, grantee ("kind:name").
// Drops every share granted to it, on both sides.
const DROP_GRANTEE_SCRIPT = `
local refs = redis.call('HKEYS', KEYS[1])
for _, ref in ipairs(refs) do
  local slash = string.find(ref, '/', 1, true)
  redis.call('HDEL', ARGV[1] .. string.sub(ref, 1, slash - 1), string.sub(ref, slash + 1) .. '/' .. ARGV[2])
end
redis.call('DEL', KEYS[1])
return #refs
`

const granteeOf = (s: string): Grantee => {
  const i = s.indexOf(':')
  return { kind: s.slice(0, i) as GranteeKind, name: s.slice(i + 1) }
}

const byAge = (a: ShareRecord, b: ShareRecord) =>
  a.created.localeCompare(b.created) ||
  `${a.owner}/${a.server}/${a.kind}:${a.name}`.localeCompare(`${b.owner}/${b.server}/${b.kind}:${b.name}`)

function codeFromHash(h: Record<string, string>): ShareCodeRecord | undefined {
  if (!h.id) return undefined
  return {
    id: h.id,
    owner: h.owner,
    server: h.server ?? '',
    scopes: h.scopes ? (decodeJson(`share code ${h.id}`, 'scopes', h.scopes, isStringList) ?? []) : [],
    created: h.created,
    expiresAt: h.expires_at,
    exchangeCount: Number(h.exchange_count || 0),
    lastExchangedAt: h.last_exchanged_at || null,
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const expired = (c: ShareCodeRecord, now = Date.now()) => Date.parse(c.expiresAt) <= now

/** What publishing a user's proxy access entry needs besides the shares themselves. */
export type ShareEdgeDeps = Pick<Deps, 'groups' | 'roles' | 'tables' | 'redis' | 'keys'>

export class Shares {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly edge: ShareEdgeDeps,
  ) {
    if (!redis.grantShare) {
      redis.defineCommand('grantShare', { numberOfKeys: 4, lua: GRANT_SCRIPT })
      redis.defineCommand('revokeShare', { numberOfKeys: 2, lua: REVOKE_SCRIPT })
      redis.defineCommand('dropServerShares', { numberOfKeys: 1, lua: DROP_SERVER_SCRIPT })
      redis.defineCommand('dropGranteeShares', { numberOfKeys: 1, lua: DROP_GRANTEE_SCRIPT })
    }
  }

  /** The default server exists with its user; a named one while it has a record (running or not). */
  async serverExists(owner: string, server: string): Promise<boolean> {
    return (await this.redis.exists(server ? this.keys.server(owner, server) : this.keys.user(owner))) === 1
  }

  /**
   * Shares the server with a user or group (adding the scopes to an existing share). NotFound when
   * the server is gone, BadRequest when the grantee does not exist or is the owner.
   */
  async grant(owner: string, server: string, to: Grantee, scopes: readonly string[]): Promise<ShareRecord> {
    if (to.kind === 'user' && to.name === owner)
      throw new BadRequest(`${owner} owns ${owner}/${server} and cannot be given a share of it`)
    if (!scopes.length) throw new TypeError('a share needs at least one scope')
    const serverKey = server ? this.keys.server(owner, server) : this.keys.user(owner)
    const granteeKey = to.kind === 'user' ? this.keys.user(to.name) : this.keys.group(to.name)
    let v: string
    try {
      v = await this.redis.grantShare(
        this.keys.shares(owner),
        this.keys.sharedWith(to.kind, to.name),
        serverKey,
        granteeKey,
        `${server}/${to.kind}:${to.name}`,
        `${owner}/${server}`,
        JSON.stringify([...scopes].sort()),
        new Date().toISOString(),
      )
    } catch (err) {
      const msg = (err as Error).message
      if (msg.includes('NO_SERVER')) throw new NotFound(`No such server: ${owner}/${server}`)
      if (msg.includes('NO_GRANTEE')) throw new BadRequest(`No such ${to.kind}: ${to.name}`)
      throw err
    }
    await this.republish([to])
    return this.record(owner, server, to, v)
  }

  /**
   * Takes scopes (all when none are named) away from a share; the share goes when none remain.
   * Returns what remains: the share, null when it is gone, undefined when there was none.
   */
  async revoke(
    owner: string,
    server: string,
    to: Grantee,
    scopes?: readonly string[],
  ): Promise<ShareRecord | null | undefined> {
    const v = await this.redis.revokeShare(
      this.keys.shares(owner),
      this.keys.sharedWith(to.kind, to.name),
      `${server}/${to.kind}:${to.name}`,
      `${owner}/${server}`,
      scopes?.length ? JSON.stringify(scopes) : '',
    )
    if (v == null) return undefined
    await this.republish([to])
    return v === '' ? null : this.record(owner, server, to, v)
  }

  async get(owner: string, server: string, to: Grantee): Promise<ShareRecord | undefined> {
    const v = await this.redis.hget(this.keys.shares(owner), `${server}/${to.kind}:${to.name}`)
    return v == null ? undefined : this.record(owner, server, to, v)
  }

  /** Shares of the owner's servers (or of one of them), oldest first. */
  async ofOwner(owner: string, server?: string): Promise<ShareRecord[]> {
    const out: ShareRecord[] = []
    for (const [f, v] of Object.entries(await this.redis.hgetall(this.keys.shares(owner)))) {
      const i = f.indexOf('/')
      if (server !== undefined && f.slice(0, i) !== server) continue
      out.push(this.record(owner, f.slice(0, i), granteeOf(f.slice(i + 1)), v))
    }
    return out.sort(byAge)
  }

  /** Shares granted to a user directly, or to any of `groups` (the user's), oldest first. */
  async sharedWith(user: string | undefined, groups: readonly string[] = []): Promise<ShareRecord[]> {
    const grantees: Grantee[] = [
      ...(user === undefined ? [] : [{ kind: 'user' as const, name: user }]),
      ...groups.map((name) => ({ kind: 'group' as const, name })),
    ]
    if (!grantees.length) return []
    // sent together (auto-pipelining), without MULTI: this runs for every request of a user
    const res = await Promise.all(grantees.map((g) => this.redis.hgetall(this.keys.sharedWith(g.kind, g.name))))
    const out: ShareRecord[] = []
    grantees.forEach((g, k) => {
      for (const [ref, v] of Object.entries(res[k])) {
        const i = ref.indexOf('/')
        out.push(this.record(ref.slice(0, i), ref.slice(i + 1), g, v))
      }
    })
    return out.sort(byAge)
  }

  /** The raw scopes a user holds through shares (direct and through the user's groups). */
  async scopesFor(user: string, groups: readonly string[]): Promise<string[]> {
    return [...new Set((await this.sharedWith(user, groups)).flatMap((s) => s.scopes))]
  }

  /** Servers ("owner/name") a user may open through shares, for the proxy's access entry. */
  async serversFor(user: string, groups: readonly string[]): Promise<string[]> {
    const out = new Set<string>()
    for (const s of await this.sharedWith(user, groups)) {
      const ref = `${s.owner}/${s.server}`
      if (has(expand(s.scopes), 'access:servers', { user: s.owner, server: ref })) out.add(ref)
    }
    return [...out].sort()
  }

  /** Every share of one server goes (DELETE /shares/{owner}/{server}); returns how many. */
  async revokeServer(owner: string, server: string): Promise<number> {
    const grantees = await this.redis.dropServerShares(
      this.keys.shares(owner),
      owner,
      server,
      this.sharedWithPrefix(),
      '0',
    )
    await this.republish(grantees.map(granteeOf))
    return grantees.length
  }

  /**
   * A server was renamed (its record is already under `to`): its shares and share codes move to the
   * new name, their server filters rewritten (…!server=OWNER/FROM becomes …!server=OWNER/TO).
   */
  async moveServer(owner: string, from: string, to: string): Promise<void> {
    const rename = (scopes: readonly string[]) =>
      scopes.map((s) => s.replace(new RegExp(`!server=${escapeRegExp(`${owner}/${from}`)}$`), `!server=${owner}/${to}`))
    for (const s of await this.ofOwner(owner, from)) {
      if (!s.scopes.length) continue
      await this.grant(owner, to, { kind: s.kind, name: s.name }, rename(s.scopes)).catch((err) => {
        if (!(err instanceof BadRequest)) throw err // the grantee was deleted meanwhile: nothing to move
      })
    }
    await this.revokeServer(owner, from)
    for (const c of await this.codes(owner, from)) {
      // only while the code exists: one that expires meanwhile is not written back without its expiry
      await this.redis.eval(
        "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'server', ARGV[1], 'scopes', ARGV[2]) end",
        1,
        this.keys.shareCode(c.id),
        to,
        JSON.stringify(rename(c.scopes).sort()),
      )
    }
  }

  /**
   * A server was removed: its shares and share codes go. Call it after the server's record is gone
   * (a share granted in between is then refused for want of the server).
   */
  async forgetServer(owner: string, server: string): Promise<void> {
    await this.revokeServer(owner, server)
    for (const c of await this.codes(owner, server)) await this.deleteCode(c)
  }

  /**
   * A user was deleted: shares of the user's servers, shares granted to the user and the user's share
   * codes go. Call it after the user's record is gone.
   */
  async forgetUser(name: string): Promise<void> {
    const grantees = (
      await this.redis.dropServerShares(this.keys.shares(name), name, '', this.sharedWithPrefix(), '1')
    ).map(granteeOf)
    await this.redis.dropGranteeShares(this.keys.sharedWith('user', name), this.keys.shares(''), `user:${name}`)
    const ids = await this.redis.zrange(this.keys.shareCodes(name), '0', '-1')
    for (const id of ids) await this.deleteCodeById(name, id)
    await this.redis.del(this.keys.shareCodes(name))
    await this.republish([...grantees, { kind: 'user', name }])
  }

  /** A group was deleted: shares granted to it go. Call it before the group's members are dropped, or republish them after. */
  async forgetGroup(name: string): Promise<void> {
    await this.redis.dropGranteeShares(this.keys.sharedWith('group', name), this.keys.shares(''), `group:${name}`)
    await this.republish([{ kind: 'group', name }])
  }

  /** Users something is shared with directly (for a full republish at start). */
  async userGrantees(): Promise<string[]> {
    const prefix = this.keys.sharedWith('user', '')
    const out: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await this.redis.scan(
        cursor,
        'MATCH',
        `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
        'COUNT',
        500,
      )
      cursor = next
      for (const k of keys) out.push(k.slice(prefix.length))
    } while (cursor !== '0')
    return out
  }

  // ---- share codes

  /** A new code for the server; the code itself is returned once and only its digest is kept. */
  async issueCode(
    owner: string,
    server: string,
    scopes: readonly string[],
    expiresInSec = SHARE_CODE_EXPIRES_SEC,
  ): Promise<{ code: string; record: ShareCodeRecord }> {
    if (!(await this.serverExists(owner, server))) throw new NotFound(`No such server: ${owner}/${server}`)
    const code = randomBytes(32).toString('base64url')
    const digest = tokenDigest(code)
    const seq = await this.redis.incr(this.keys.shareCodeSeq)
    const id = `sc_${seq}`
    const expires = Date.now() + expiresInSec * 1000
    const fields = {
      id,
      owner,
      server,
      digest,
      scopes: JSON.stringify([...scopes].sort()),
      created: new Date().toISOString(),
      expires_at: new Date(expires).toISOString(),
      exchange_count: '0',
      last_exchanged_at: '',
    }
    // Redis forgets the code once it has expired; the owner's index is cleaned as it is read.
    const at = Math.ceil(expires / 1000)
    await this.redis
      .multi()
      .hset(this.keys.shareCode(id), fields)
      .expireat(this.keys.shareCode(id), at)
      .set(this.keys.shareCodeDigest(digest), id, 'EXAT', at)
      .zadd(this.keys.shareCodes(owner), seq, id)
      .exec()
    return { code, record: codeFromHash(fields)! }
  }

  /** The owner's codes that have not expired (of one server, or all), oldest first. */
  async codes(owner: string, server?: string): Promise<ShareCodeRecord[]> {
    const out: ShareCodeRecord[] = []
    for (const id of await this.redis.zrange(this.keys.shareCodes(owner), '0', '-1')) {
      const c = await this.getCode(id)
      if (!c) {
        await this.deleteCodeById(owner, id)
        continue
      }
      if (server === undefined || c.server === server) out.push(c)
    }
    return out
  }

  /** A code's record by id, unless it has expired (an expired one is deleted). */
  async getCode(id: string): Promise<ShareCodeRecord | undefined> {
    const c = codeFromHash(await this.redis.hgetall(this.keys.shareCode(id)))
    if (c && expired(c)) return void (await this.deleteCode(c))
    return c
  }

  /** The record of a presented code, unless it is unknown or has expired. */
  async findCode(code: string): Promise<ShareCodeRecord | undefined> {
    if (!code || code.length > 256) return undefined
    const id = await this.redis.get(this.keys.shareCodeDigest(tokenDigest(code)))
    return id ? this.getCode(id) : undefined
  }

  async deleteCode(c: ShareCodeRecord): Promise<void> {
    await this.deleteCodeById(c.owner, c.id)
  }

  /** Exchanges a code (checked by findCode) for a share of the user's own; counts the exchange. */
  async exchange(c: ShareCodeRecord, user: string): Promise<ShareRecord> {
    const share = await this.grant(c.owner, c.server, { kind: 'user', name: user }, c.scopes)
    const key = this.keys.shareCode(c.id)
    // only while the code is still there (it may have been revoked meanwhile)
    if (await this.redis.exists(key))
      await this.redis
        .multi()
        .hincrby(key, 'exchange_count', 1)
        .hset(key, 'last_exchanged_at', new Date().toISOString())
        .exec()
    return share
  }

  private async deleteCodeById(owner: string, id: string): Promise<void> {
    const digest = await this.redis.hget(this.keys.shareCode(id), 'digest')
    const m = this.redis.multi().del(this.keys.shareCode(id)).zrem(this.keys.shareCodes(owner), id)
    if (digest) m.del(this.keys.shareCodeDigest(digest))
    await m.exec()
  }

  private sharedWithPrefix(): string {
    const k = this.keys.sharedWith('user', '')
    return k.slice(0, k.length - 'user:'.length)
  }

  private record(owner: string, server: string, to: Grantee, json: string): ShareRecord {
    // a share that cannot be decoded grants nothing (reported once)
    const ok = (x: unknown): x is { scopes: string[]; created: string } =>
      isObject(x) && isStringList(x.scopes) && typeof x.created === 'string'
    const v = decodeJson(`share ${owner}/${server} ${to.kind}:${to.name}`, 'scopes', json, ok) ?? {
      scopes: [],
      created: '',
    }
    return { owner, server, kind: to.kind, name: to.name, scopes: v.scopes, created: v.created }
  }

  /** Republishes the proxy's access entry of every user the grantees stand for. */
  private async republish(grantees: readonly Grantee[]): Promise<void> {
    const users = new Set<string>()
    for (const g of grantees) {
      if (g.kind === 'user') users.add(g.name)
      else (await this.edge.groups.get(g.name))?.users.forEach((u) => users.add(u))
    }
    for (const u of users) await publishAccess({ ...this.edge, shares: this }, u)
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    grantShare(
      shares: string,
      sharedWith: string,
      server: string,
      grantee: string,
      field: string,
      ref: string,
      scopes: string,
      created: string,
    ): Result<string, Context>
    revokeShare(
      shares: string,
      sharedWith: string,
      field: string,
      ref: string,
      scopes: string,
    ): Result<string | null, Context>
    dropServerShares(
      shares: string,
      owner: string,
      server: string,
      sharedWithPrefix: string,
      all: '0' | '1',
    ): Result<string[], Context>
    dropGranteeShares(sharedWith: string, sharesPrefix: string, grantee: string): Result<number, Context>
  }
}
