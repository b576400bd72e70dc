// What the hub tells a client about a user: the scopes it offers, the claims each one releases, and
// the account behind a `sub`, read from the user's current record every time (never cached).
import type { FindAccount } from 'oidc-provider'
import type { Deps } from '../deps'
import { isAllowed } from '../../../auth/src'
import { userScopes } from '../scopes/resolve'
import { toStrings } from '../scopes/scope-set'

export const OIDC_SCOPES = ['openid', 'profile', 'groups', 'offline_access'] as const
export type OidcScope = (typeof OIDC_SCOPES)[number]

/** The claims each scope releases, in the ID token and at userinfo. */
export const SCOPE_CLAIMS: Record<string, string[]> = {
  openid: ['sub'],
  profile: ['name', 'preferred_username', 'admin', 'scopes'],
  groups: ['groups'],
}

type AccountDeps = Pick<Deps, 'users' | 'config' | 'roles'> & {
  groups: Pick<Deps['groups'], 'ofUser'>
  shares: Pick<Deps['shares'], 'scopesFor'>
}

/**
 * Looks a user up by name (the `sub`). A user who was deleted, blocked or not approved has no account,
 * so their refresh tokens and access tokens stop working at once.
 */
export function findAccount(d: AccountDeps): FindAccount {
  return async (_ctx, sub, token) => {
    const user = await d.users.get(sub)
    if (!user?.approved || !isAllowed(d.config.auth, user.name)) return undefined
    // a token older than the account belongs to an earlier user of that name (deleted or renamed)
    const iat = (token as { iat?: number } | undefined)?.iat
    if (iat && Date.parse(user.created) / 1000 > iat + 1) return undefined
    return {
      accountId: user.name,
      async claims() {
        const groups = await d.groups.ofUser(user.name)
        return {
          sub: user.name,
          name: user.name,
          preferred_username: user.name,
          admin: user.admin,
          groups,
          // what the user may do on the hub, in JupyterHub's scopes (as GET /hub/api/user shows them)
          scopes: toStrings(await userScopes(d, user, groups)),
        }
      },
    }
  }
}
