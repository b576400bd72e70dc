// User records in Redis (hub side) and the proxy's view of them (admin flag).
import type { Redis } from 'ioredis'
import { Conflict, NotFound } from '../../../runtime/src/errors'
import type { KeyNames } from './keys'
import type { ProxyTables } from './proxy-tables'

export interface UserRecord {
  name: string
  admin: boolean
  approved: boolean
  created: string
  lastActivity: string | null
}

export function userFromHash(h: Record<string, string>): UserRecord | undefined {
  if (!h.name) return undefined
  return {
    name: h.name,
    admin: h.admin === '1',
    approved: h.approved !== '0',
    created: h.created,
    lastActivity: h.last_activity || null,
  }
}

// ISO 8601 UTC timestamps of one format compare as strings.
const TOUCH_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'name') == 0 then return 0 end
local cur = redis.call('HGET', KEYS[1], 'last_activity')
if cur and cur >= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'last_activity', ARGV[1])
return 1`

// ARGV[1] the head of the user keys (a key is the head and the name), ARGV[2] the names (a JSON
// list): each user's last_activity ('' where none), as a JSON list in the same order. One call for
// a listing sorted by activity, instead of a round trip (or a pipelined command) per user.
const LAST_ACTIVITY_SCRIPT = `
local head, out = ARGV[1], {}
for i, name in ipairs(cjson.decode(ARGV[2])) do
  out[i] = redis.call('HGET', head .. name, 'last_activity') or ''
end
return cjson.encode(out)`

/** KEYS[1] a user's hash; ARGV[1] a TOTP step: recorded (1) only when later than the last one used. */
const USE_STEP_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = tonumber(redis.call('HGET', KEYS[1], 'otpStep') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'otpStep', ARGV[1])
return 1`

export class Users {
  private copy?: { version: string; names: readonly string[]; lower: readonly string[] }

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly tables: ProxyTables,
  ) {}

  async get(name: string): Promise<UserRecord | undefined> {
    return userFromHash(await this.redis.hgetall(this.keys.user(name)))
  }

  /** Several records in one pipelined round trip (undefined where a user is gone). */
  async getMany(names: readonly string[]): Promise<Array<UserRecord | undefined>> {
    if (names.length === 0) return []
    const p = this.redis.pipeline()
    for (const n of names) p.hgetall(this.keys.user(n))
    return (await p.exec())!.map(([err, h]) => {
      if (err) throw err
      return userFromHash(h as Record<string, string>)
    })
  }

  async require(name: string): Promise<UserRecord> {
    const u = await this.get(name)
    if (!u) throw new NotFound(`user ${name} not found`)
    return u
  }

  async names(offset = 0, limit = -1): Promise<string[]> {
    return this.redis.zrange(this.keys.users, String(offset), String(limit < 0 ? -1 : offset + limit - 1))
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.keys.users)
  }

  /**
   * Every name, in order: this replica's copy, read again only when the users' version (raised in
   * the same transaction as every change to the set of names) has moved since it was read. A search,
   * a state filter or the running order of 100,000 users then costs one GET, not the whole set.
   */
  async allNames(): Promise<readonly string[]> {
    // the version first: a change after it makes the copy look older than it is, never newer
    return (await this.current((await this.redis.get(this.keys.usersVersion)) ?? '0')).names
  }

  private async current(version: string) {
    if (this.copy?.version !== version) {
      const names = await this.names()
      this.copy = { version, names, lower: names.map((n) => n.toLowerCase()) }
    }
    return this.copy
  }

  /** The names containing `part`, ignoring case (JupyterHub's name_filter), in order. */
  async search(part: string): Promise<string[]> {
    const want = part.toLowerCase()
    const { names, lower } = await this.current((await this.redis.get(this.keys.usersVersion)) ?? '0')
    const out: string[] = []
    for (let i = 0; i < names.length; i++) if (lower[i].includes(want)) out.push(names[i])
    return out
  }

  /** Each user's last_activity (null where none or gone), in the order of `names`, in one call. */
  async lastActivities(names: readonly string[]): Promise<Array<string | null>> {
    if (names.length === 0) return []
    const head = this.keys.user('')
    const values = JSON.parse(
      (await this.redis.eval(LAST_ACTIVITY_SCRIPT, 0, head, JSON.stringify(names))) as string,
    ) as string[] | Record<string, never>
    return Array.isArray(values) ? values.map((v) => v || null) : []
  }

  /** Creates the user; Conflict when the name is taken. */
  async create(
    name: string,
    opts: { admin?: boolean; approved?: boolean; passwordHash?: string } = {},
  ): Promise<UserRecord> {
    const key = this.keys.user(name)
    const created = new Date().toISOString()
    const fields: Record<string, string> = {
      admin: opts.admin ? '1' : '0',
      approved: opts.approved === false ? '0' : '1',
      created,
    }
    if (opts.passwordHash) fields.password = opts.passwordHash
    // HSETNX on "name" is the atomic claim; the rest follows in one MULTI.
    if (!(await this.redis.hsetnx(key, 'name', name))) throw new Conflict(`user ${name} already exists`)
    await this.redis.multi().hset(key, fields).zadd(this.keys.users, 0, name).incr(this.keys.usersVersion).exec()
    await this.tables.set('users', name, { admin: !!opts.admin })
    return (await this.get(name))!
  }

  async setAdmin(name: string, admin: boolean): Promise<void> {
    await this.require(name)
    await this.redis.hset(this.keys.user(name), 'admin', admin ? '1' : '0')
    await this.tables.set('users', name, { admin })
  }

  async approve(name: string): Promise<void> {
    await this.require(name)
    await this.redis.hset(this.keys.user(name), 'approved', '1')
  }

  async passwordHash(name: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.user(name), 'password')) ?? undefined
  }

  /** Sets the password of a user who has none (made from auth.admins / auth.allowed); false when one is set. */
  async setFirstPasswordHash(name: string, hash: string): Promise<boolean> {
    await this.require(name)
    return (await this.redis.hsetnx(this.keys.user(name), 'password', hash)) === 1
  }

  /** PasswordAccounts' second factor (auth/src/native): the TOTP secret, and the last time step used. */
  async otpSecret(name: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.user(name), 'otp')) ?? undefined
  }

  async setOtpSecret(name: string, secret: string | undefined): Promise<void> {
    await this.require(name)
    if (secret) await this.redis.hset(this.keys.user(name), 'otp', secret)
    else await this.redis.hdel(this.keys.user(name), 'otp')
  }

  /** True the first time a step (or a later one) is used: a code cannot log in twice. */
  async useOtpStep(name: string, step: number): Promise<boolean> {
    return (await this.redis.eval(USE_STEP_SCRIPT, 1, this.keys.user(name), String(step))) === 1
  }

  /** PasswordAccounts.claimFirstPassword (auth/src/native): the first-use authenticator's first login. */
  async claimFirstPassword(name: string, hash: string, opts: { create: boolean }): Promise<boolean> {
    if (!(await this.get(name))) {
      if (!opts.create) return false
      try {
        await this.create(name, { passwordHash: hash })
        return true
      } catch (err) {
        if (!(err instanceof Conflict)) throw err // made by another login a moment ago
      }
    }
    return (await this.redis.hsetnx(this.keys.user(name), 'password', hash)) === 1
  }

  async setPasswordHash(name: string, hash: string): Promise<void> {
    await this.require(name)
    await this.redis.hset(this.keys.user(name), 'password', hash)
  }

  /** Deletes the user record and the proxy's view of it (sessions, tokens, servers: see deleteUser). */
  async remove(name: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.user(name), this.keys.authState(name))
      .zrem(this.keys.users, name)
      .incr(this.keys.usersVersion)
      .exec()
    await this.tables.del('users', name)
  }

  /** Moves the record to a new name (Conflict when taken); the proxy's view follows. */
  async rename(from: string, to: string): Promise<void> {
    const h = await this.redis.hgetall(this.keys.user(from))
    if (!h.name) throw new NotFound(`user ${from} not found`)
    if (!(await this.redis.hsetnx(this.keys.user(to), 'name', to))) throw new Conflict(`user ${to} already exists`)
    const { name: _, ...fields } = h
    await this.redis
      .multi()
      .hset(this.keys.user(to), fields)
      .zadd(this.keys.users, 0, to)
      .del(this.keys.user(from), this.keys.authState(from)) // its auth state opens only under its name: the next login writes it
      .zrem(this.keys.users, from)
      .incr(this.keys.usersVersion)
      .exec()
    await this.tables.apply([
      { table: 'users', key: to, value: { admin: h.admin === '1' } },
      { table: 'users', key: from, delete: true },
    ])
  }

  /** Raises the user's last_activity to when (never lowers it; no-op for a user that is gone). */
  async touch(name: string, when = new Date()): Promise<void> {
    await this.redis.eval(TOUCH_SCRIPT, 1, this.keys.user(name), when.toISOString())
  }
}
