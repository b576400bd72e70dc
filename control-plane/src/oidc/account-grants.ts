// A user's grants at the hub's OpenID Connect provider: the clients they let in, as the token page
// lists them under "Authorized applications", and their revocation. Revoking a grant deletes every
// code, access and refresh token issued under it and the grant itself, so the client's tokens stop
// working at once; to get access again the client must send the user through the provider's
// authorization again (consent is the operator's: a user with a hub session gets a new grant).
import type { Redis } from 'ioredis'
import type { OidcKeyNames } from '../state/keys'

export interface AccountGrant {
  grantId: string
  clientId: string
  /** The scopes granted (space-separated), as the consent gave them. */
  scope: string
  /** When it was granted (ISO), and when it ends unless used again. */
  created: string | null
  expires: string | null
}

/** The most grants listed for one user (each is one read). */
const MAX_LISTED = 200

const iso = (sec: unknown) => (typeof sec === 'number' ? new Date(sec * 1000).toISOString() : null)

/** The user's live grants, oldest first; ids of grants that expired are dropped from the index. */
export async function accountGrants(redis: Redis, keys: OidcKeyNames, user: string): Promise<AccountGrant[]> {
  const ids = (await redis.smembers(keys.accountGrants(user))).slice(0, MAX_LISTED)
  if (!ids.length) return []
  const payloads = await Promise.all(ids.map((id) => redis.hget(keys.model('Grant', id), 'payload')))
  const gone: string[] = []
  const out: AccountGrant[] = []
  ids.forEach((id, i) => {
    const raw = payloads[i]
    if (!raw) return void gone.push(id)
    let g: {
      accountId?: string
      clientId?: string
      openid?: { scope?: string }
      iat?: number
      exp?: number
    }
    try {
      g = JSON.parse(raw)
    } catch {
      return // not oidc-provider's writing: not listed, and left for its own expiry
    }
    if (g.accountId !== user || typeof g.clientId !== 'string') return
    out.push({
      grantId: id,
      clientId: g.clientId,
      scope: g.openid?.scope ?? '',
      created: iso(g.iat),
      expires: iso(g.exp),
    })
  })
  if (gone.length) await redis.srem(keys.accountGrants(user), ...gone)
  return out.sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''))
}

// KEYS: the grant's member index, the grant object, the account's grant set. Deletes what was issued
// under the grant, the grant and its index, in one step. ARGV[1] the grant id.
const REVOKE = `
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', k) end
redis.call('DEL', KEYS[1], KEYS[2])
return redis.call('SREM', KEYS[3], ARGV[1])
`

/**
 * Revokes grantId if it is one of user's grants; false when it is not (another user's, or gone).
 * Membership is checked first, so a user cannot revoke someone else's grant by its id.
 */
export async function revokeAccountGrant(
  redis: Redis,
  keys: OidcKeyNames,
  user: string,
  grantId: string,
): Promise<boolean> {
  if (!(await redis.sismember(keys.accountGrants(user), grantId))) return false
  await redis.eval(REVOKE, 3, keys.grant(grantId), keys.model('Grant', grantId), keys.accountGrants(user), grantId)
  return true
}
