// Reading the user out of a provider's claims: the user name from one claim, the groups from a claim
// or a dotted path into nested objects (Keycloak's realm_access.roles, Entra ID's groups).
import { HubError } from '../../../runtime/src/errors'
import type { Json } from '../authenticator'

export type Claims = { [k: string]: Json }

/** The value at a claim name, or at a dotted path when no claim has the whole name. */
export function claimAt(claims: Claims, path: string): Json | undefined {
  if (path in claims) return claims[path]
  let cur: Json | undefined = claims
  for (const part of path.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    cur = cur[part]
  }
  return cur
}

/** The user name the claim gives; an error the person reads when it is missing. */
export function usernameFrom(claims: Claims, claim: string): string {
  const v = claimAt(claims, claim)
  if (typeof v === 'string' && v.length > 0) return v
  if (typeof v === 'number') return String(v)
  throw new HubError(403, `The identity provider did not say who you are (no "${claim}" claim).`, 'forbidden')
}

/**
 * The groups at the path: a list of names (others skipped), or one name; none when the claim is
 * missing (providers leave it out for users in no group). Undefined only when no path is configured.
 */
export function groupsFrom(claims: Claims, path: string): string[] | undefined {
  if (!path) return undefined
  const v = claimAt(claims, path)
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v)) return []
  return v.filter((g): g is string => typeof g === 'string' && g.length > 0).slice(0, 1000)
}
