// This replica's oidc-provider instance. oidc-provider takes its keys when it is made, so the instance
// is made again when the key set in Redis has a new version (the leader rotated it). The version is
// checked at most every KEY_CHECK_MS: within that time of a rotation every replica signs with the new
// key. Only the keys live in the instance; everything a request leaves behind is in Redis.
import type { Deps } from '../deps'
import { createProvider, type Provider } from './provider'
import { oidcKeyNames } from '../state/keys'
import { SigningKeys } from './signing-keys'

export const KEY_CHECK_MS = 2000

export interface CurrentProvider {
  provider: Provider
  version: number
}

export const signingKeys = (d: Pick<Deps, 'redis' | 'keys'>) =>
  new SigningKeys(d.redis, oidcKeyNames(d.keys.prefix).keySet)

class ProviderCache {
  private current?: CurrentProvider
  private checkedAt = 0
  private loading?: Promise<CurrentProvider>

  constructor(private readonly d: Deps) {}

  get(): Promise<CurrentProvider> {
    if (this.current && Date.now() - this.checkedAt < KEY_CHECK_MS) return Promise.resolve(this.current)
    this.loading ??= this.load().finally(() => (this.loading = undefined))
    return this.loading
  }

  /** The next get() reads the key set again (this replica rotated it). */
  recheck(): void {
    this.checkedAt = 0
  }

  private async load(): Promise<CurrentProvider> {
    const keySet = await signingKeys(this.d).ensure()
    if (this.current?.version !== keySet.version) {
      this.current = { provider: await createProvider(this.d, keySet), version: keySet.version }
      this.d.log
        .child('oidc')
        .debug('oidc provider ready', { key_set_version: keySet.version, kid: keySet.current.kid })
    }
    this.checkedAt = Date.now()
    return this.current
  }
}

const caches = new WeakMap<Deps, ProviderCache>()

function cacheFor(d: Deps): ProviderCache {
  let cache = caches.get(d)
  if (!cache) caches.set(d, (cache = new ProviderCache(d)))
  return cache
}

/** The provider with the current keys (made, or made again, when needed). */
export function currentProvider(d: Deps): Promise<CurrentProvider> {
  return cacheFor(d).get()
}

/** Makes this replica read the key set at its next request instead of within KEY_CHECK_MS. */
export function recheckKeys(d: Deps): void {
  caches.get(d)?.recheck()
}
