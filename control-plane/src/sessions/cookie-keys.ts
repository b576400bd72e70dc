// Cookie-signing keys: kept in the proxy table `keys`, one of them current, rotated on a schedule.
import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { KeyNames } from '../state/keys'
import type { ProxyTables } from '../state/proxy-tables'
import { newKeySecret } from './cookie'

interface KeyEntry {
  secret: string
  created: number
}

const CACHE_MS = 1000

export class CookieKeys {
  private cache: { at: number; keys: Record<string, KeyEntry>; current: string | null } | null = null

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly tables: ProxyTables,
  ) {}

  private async load() {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache
    const [keys, current] = await Promise.all([
      this.tables.getAll<KeyEntry>('keys'),
      this.redis.get(this.keys.currentCookieKey),
    ])
    this.cache = { at: Date.now(), keys, current }
    return this.cache
  }

  async secret(kid: string): Promise<string | undefined> {
    return (await this.load()).keys[kid]?.secret
  }

  /** The key that signs new cookies; made on first use. */
  async current(): Promise<{ kid: string; secret: string }> {
    const c = await this.load()
    if (c.current && c.keys[c.current]) return { kid: c.current, secret: c.keys[c.current].secret }
    return this.rotate(true)
  }

  /**
   * Makes a new current key. With onlyIfMissing, a replica that lost the race uses the winner's key.
   * Keys older than maxAgeSec + rotation period are dropped: no live cookie can name them.
   */
  async rotate(onlyIfMissing = false, dropOlderThanSec?: number): Promise<{ kid: string; secret: string }> {
    const kid = randomBytes(6).toString('base64url')
    const entry: KeyEntry = { secret: newKeySecret(), created: Math.floor(Date.now() / 1000) }
    await this.tables.set('keys', kid, entry)
    const prev = await this.redis.get(this.keys.currentCookieKey)
    const prevValid = prev && (await this.tables.get('keys', prev))
    if (onlyIfMissing && prevValid) {
      await this.tables.del('keys', kid)
    } else {
      await this.redis.set(this.keys.currentCookieKey, kid)
    }
    if (dropOlderThanSec !== undefined) {
      const cutoff = Math.floor(Date.now() / 1000) - dropOlderThanSec
      for (const [id, k] of Object.entries(await this.tables.getAll<KeyEntry>('keys'))) {
        if (k.created < cutoff && id !== kid) await this.tables.del('keys', id)
      }
    }
    this.cache = null
    return this.current()
  }

  /** Age in seconds of the current key (Infinity when there is none). */
  async currentAgeSec(): Promise<number> {
    const c = await this.load()
    const k = c.current ? c.keys[c.current] : undefined
    return k ? Date.now() / 1000 - k.created : Infinity
  }
}
