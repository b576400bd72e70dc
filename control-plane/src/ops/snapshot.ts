// A consistent copy of every key under the prefix, read by one Lua script (Redis runs a script
// atomically: no other client's command lands between its reads, so the copy is one point in time,
// as a MULTI would be, without needing the key names first), and the write that puts such a copy
// back in one MULTI. Values are kept as text, not DUMP payloads: RESTORE is one of the @dangerous
// commands the hub's Redis log-in may not send, and a DUMP payload is refused by an older Redis.
import { Command, type Redis } from 'ioredis'

export type KeyType = 'string' | 'hash' | 'set' | 'zset' | 'list' | 'stream'

/** A value as stored in a backup: text, or base64 for bytes that are not UTF-8. */
export type Stored = string | { base64: string }

/** One key: its name without the prefix, its type, its time to live in ms (-1 none), its content. */
export interface KeyCopy {
  key: string
  type: KeyType
  ttlMs: number
  /** string: [value]; hash: field, value, ...; set/list: members; zset: member, score, ...; stream: id, [field, value, ...], ... */
  data: Array<Stored | Stored[]>
}

// KEYS: none. ARGV[1] the prefix (a SCAN MATCH pattern is built from it, glob characters escaped),
// ARGV[2] a SCAN COUNT. Returns { key, type, pttl, data } for every key under the prefix.
const SNAPSHOT_SCRIPT = `
local pattern = ARGV[1]:gsub('([%*%?%[%]\\\\])', '\\\\%1') .. '*'
local out, cursor = {}, '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', ARGV[2])
  cursor = r[1]
  for _, key in ipairs(r[2]) do
    local t = redis.call('TYPE', key).ok
    local data
    if t == 'string' then data = { redis.call('GET', key) }
    elseif t == 'hash' then data = redis.call('HGETALL', key)
    elseif t == 'set' then data = redis.call('SMEMBERS', key)
    elseif t == 'zset' then data = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    elseif t == 'list' then data = redis.call('LRANGE', key, 0, -1)
    elseif t == 'stream' then data = redis.call('XRANGE', key, '-', '+')
    end
    if data then out[#out + 1] = { key, t, redis.call('PTTL', key), data } end
  end
until cursor == '0'
return out`

/** Keys that describe no state but a moment of a running hub: leases and locks, the leader. */
export function isTransient(key: string): boolean {
  return key === 'leader' || key.startsWith('lock:')
}

const stored = (b: Buffer): Stored => {
  const s = b.toString('utf8')
  return Buffer.byteLength(s) === b.length && Buffer.from(s, 'utf8').equals(b) ? s : { base64: b.toString('base64') }
}
const bytes = (v: Stored): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.base64, 'base64'))

/**
 * Every key under prefix, read at one point in time; without leases and locks and without the change
 * stream (a restore starts the proxies on a full sync instead, see writeSnapshot).
 */
export async function readSnapshot(redis: Redis, prefix: string): Promise<KeyCopy[]> {
  // replies as bytes (replyEncoding null): a value that is not UTF-8 is kept as it is
  const read = new Command('eval', [SNAPSHOT_SCRIPT, '0', prefix, '1000'], { replyEncoding: null })
  const rows = (await redis.sendCommand(read)) as Array<[Buffer, Buffer, number, unknown[]]>
  const out: KeyCopy[] = []
  for (const [name, type, pttl, data] of rows) {
    const key = name.toString('utf8').slice(prefix.length)
    const t = type.toString() as KeyType
    if (isTransient(key) || key === 'proxy:changes') continue
    const content =
      t === 'stream'
        ? (data as Array<[Buffer, Buffer[]]>).flatMap(([id, fields]) => [stored(id), fields.map(stored)])
        : (data as Buffer[]).map(stored)
    out.push({ key, type: t, ttlMs: Number(pttl), data: content })
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** The names of every key under prefix now (SCAN: not one point in time; see writeSnapshot). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  const out: string[] = []
  let cursor = '0'
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    out.push(...found)
    cursor = next
  } while (cursor !== '0')
  return out
}

function pairs<T>(list: T[]): Array<[T, T]> {
  const out: Array<[T, T]> = []
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i], list[i + 1]])
  return out
}

/**
 * Replaces every key under prefix with the copy, in one MULTI: a hub or proxy reading meanwhile sees
 * the old data or the new, never a mix. The proxy tables' version becomes higher than both the
 * copy's and the one it replaces, by two, with one stream entry at that version that names no table:
 * every proxy, at whatever version it was, finds a gap (it expects its own version + 1) and makes a
 * full sync. Returns that version.
 */
export async function writeSnapshot(redis: Redis, prefix: string, keys: KeyCopy[]): Promise<number> {
  const before = Number((await redis.get(`${prefix}proxy:version`)) ?? 0)
  const copied = Number(keys.find((k) => k.key === 'proxy:version')?.data[0] ?? 0)
  const version = Math.max(before, Number.isFinite(copied) ? copied : 0) + 2
  const existing = await keysUnder(redis, prefix)
  const m = redis.multi()
  for (let i = 0; i < existing.length; i += 500) m.unlink(...existing.slice(i, i + 500))
  for (const k of keys) {
    if (isTransient(k.key) || k.key === 'proxy:changes' || k.key === 'proxy:version') continue
    const name = `${prefix}${k.key}`
    const flat = k.data as Stored[]
    if (k.type === 'string') m.set(name, bytes(flat[0]))
    else if (k.type === 'hash') m.hset(name, ...flat.map(bytes))
    else if (k.type === 'set') m.sadd(name, ...flat.map(bytes))
    else if (k.type === 'list') m.rpush(name, ...flat.map(bytes))
    else if (k.type === 'zset')
      m.zadd(name, ...pairs(flat).flatMap(([member, score]) => [String(score), bytes(member)]))
    else if (k.type === 'stream') {
      for (const [id, fields] of pairs(k.data)) m.xadd(name, String(id), ...(fields as Stored[]).map(bytes))
    }
    if (k.ttlMs > 0) m.pexpire(name, k.ttlMs)
  }
  m.set(`${prefix}proxy:version`, String(version))
  m.xadd(`${prefix}proxy:changes`, `${version}-0`, 't', 'restore', 'k', '', 'o', 'set', 'v', '')
  const results = await m.exec()
  const failed = results?.find(([err]) => err)
  if (!results || failed) throw new Error(`the restore's transaction failed: ${failed?.[0]?.message ?? 'aborted'}`)
  return version
}
