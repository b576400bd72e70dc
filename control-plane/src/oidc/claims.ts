// What the hub tells a client about a user: the scopes it offers, the claims each one releases, and
// the account behind a `sub`, read from the user's current record every time (never cached).
import type { FindAccount } from 'oidc-provider'
import type { Deps } from '../deps'
import { isAllowed } from '../../../auth/src/policy'

export const OIDC_SCOPES = ['openid', 'profile', 'groups', 'offline_access'] as const
export type OidcScope = (typeof OIDC_SCOPES)[number]

/** The claims each scope releases, in the ID token and at userinfo. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub', 'scopes'],
  profile: ['name', 'preferred_username', 'admin'],
  groups: ['groups'],
}

/** Group membership, when this hub has groups (an optional dependency). */
interface GroupLookup {
  ofUser?(user: string): Promise<string[]>
}

type AccountDeps = Pick<Deps, 'users' | 'config'> & { groups?: GroupLookup }

/**
 * Looks a user up by name (the `sub`). A user who was deleted, blocked or not approved has no account,
 * so their refresh tokens and access tokens stop working at once.
 */
export function findAccount(d: AccountDeps): FindAccount {
  return async (_ctx, sub) => {
    const user = await d.users.get(sub)
    if (!user || !user.approved || !isAllowed(d.config.auth, user.name)) return undefined
    return {
      accountId: user.name,
      async claims(_use, scope) {
        const groups = d.groups?.ofUser ? await d.groups.ofUser(user.name) : []
        return {
          sub: user.name,
          name: user.name,
          preferred_username: user.name,
          admin: user.admin,
          groups,
          scopes: scope.split(' ').filter(Boolean),
        }
      },
    }
  }
}
