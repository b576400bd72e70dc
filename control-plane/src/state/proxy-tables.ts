// Writes the proxy tables and their change stream (docs/redis-schema.md, "Proxy tables").
// Every write is one Redis script, so a proxy never sees a table without its stream entry.
import type { Redis, Result } from 'ioredis'
import { keyNames, PROXY_TABLES, type ProxyTable } from './keys'
import { FencedOut } from '../../../runtime/src/errors'
import type { Guard } from '../spawn/lock'

export type TableOp =
  { table: ProxyTable; key: string; value: unknown } | { table: ProxyTable; key: string; delete: true }

// KEYS: version, stream, guard (a lock's fence counter; the version key when unguarded). ARGV: table
// key prefix, stream max length, fencing token ('' = unguarded), then (table, key, op, value) * n.
// Guarded writes are refused (-1) once the lock has been acquired by anyone after that token.
const APPLY_SCRIPT = `
local prefix, maxlen, fence = ARGV[1], ARGV[2], ARGV[3]
if fence ~= '' and tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(fence) then return -1 end
local version
for i = 4, #ARGV, 4 do
  local t, k, o, v = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  version = redis.call('INCR', KEYS[1])
  local id = version .. '-0'
  if o == 'set' then
    redis.call('HSET', prefix .. t, k, v)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, id, 't', t, 'k', k, 'o', 'set', 'v', v)
  else
    redis.call('HDEL', prefix .. t, k)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, id, 't', t, 'k', k, 'o', 'del')
  end
end
return version
`

function encode(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export class ProxyTables {
  private readonly keys

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly streamMaxLen = 100_000,
  ) {
    this.keys = keyNames(prefix)
    if (!redis.applyProxyOps) {
      redis.defineCommand('applyProxyOps', { numberOfKeys: 3, lua: APPLY_SCRIPT })
    }
  }

  /**
   * Applies the ops atomically, one version each; returns the last version. With a guard (a lock's
   * fence counter and the holder's token), throws FencedOut instead once the lock has moved on.
   */
  async apply(ops: TableOp[], guard?: Guard): Promise<number> {
    if (ops.length === 0) return this.version()
    const argv: string[] = [this.keys.proxyTablePrefix, String(this.streamMaxLen), guard ? String(guard.fence) : '']
    for (const op of ops) {
      if (!PROXY_TABLES.includes(op.table)) throw new TypeError(`unknown proxy table ${op.table}`)
      if ('delete' in op) argv.push(op.table, op.key, 'del', '')
      else argv.push(op.table, op.key, 'set', encode(op.value))
    }
    const guardKey = guard?.key ?? this.keys.proxyVersion
    const version = Number(
      await this.redis.applyProxyOps(this.keys.proxyVersion, this.keys.proxyChanges, guardKey, ...argv),
    )
    if (version < 0) throw new FencedOut(`a newer holder of ${guardKey} has written since fence ${guard?.fence}`)
    return version
  }

  set(table: ProxyTable, key: string, value: unknown, guard?: Guard): Promise<number> {
    return this.apply([{ table, key, value }], guard)
  }

  del(table: ProxyTable, key: string, guard?: Guard): Promise<number> {
    return this.apply([{ table, key, delete: true }], guard)
  }

  async get<T = unknown>(table: ProxyTable, key: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.keys.proxyTable(table), key)
    return raw == null ? undefined : (JSON.parse(raw) as T)
  }

  async getAll<T = unknown>(table: ProxyTable): Promise<Record<string, T>> {
    const raw = await this.redis.hgetall(this.keys.proxyTable(table))
    const out: Record<string, T> = {}
    for (const [k, v] of Object.entries(raw)) out[k] = JSON.parse(v) as T
    return out
  }

  async version(): Promise<number> {
    return Number((await this.redis.get(this.keys.proxyVersion)) ?? 0)
  }
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    applyProxyOps(versionKey: string, streamKey: string, guardKey: string, ...argv: string[]): Result<number, Context>
  }
}
