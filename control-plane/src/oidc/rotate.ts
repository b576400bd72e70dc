// Key rotation, for the leader's job: a new signing key (and cookie secret) every oidc.keyRotationDays;
// a retired key stays in the published JWKS until every ID token it signed has expired.
import type { Deps } from '../deps'
import { recheckKeys, signingKeys } from './current'
import { lifetimes } from './provider'

/** Clock difference allowed between the hub and a client checking an ID token's expiry. */
export const CLOCK_SKEW_SEC = 300

/**
 * Rotates when the current key is due (or at once with force) and drops retired keys nothing can
 * need any more. Cheap when there is nothing to do (one GET): call it every minute or so.
 * Returns the kid of the new key, or null.
 */
export async function rotateOidcKeys(d: Deps, opts: { force?: boolean; now?: number } = {}): Promise<string | null> {
  const o = d.config.oidc
  if (!o.enabled) return null
  const t = lifetimes(d.config)
  const { rotated, dropped } = await signingKeys(d).rotate(
    {
      rotateAfterSec: o.keyRotationDays * 86400,
      keepSigningSec: t.IdToken + CLOCK_SKEW_SEC,
      keepCookieSec: Math.max(t.Session, t.Interaction),
    },
    opts,
  )
  const log = d.log.child('oidc')
  if (rotated) log.info('rotated the oidc signing key', { kid: rotated })
  if (dropped.length) log.info('dropped retired oidc signing keys', { kids: dropped })
  recheckKeys(d)
  return rotated
}
