// What a user, or a token of a user, may do: role scopes from Redis-held membership and the config,
// and what servers shared with the user grant.
import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'
import type { TokenRecord } from '../state/tokens'
import { expand, intersect, union, type ScopeSet } from './scope-set'

type D = { roles: Deps['roles']; groups: Pick<Deps['groups'], 'ofUser'> }

export async function userScopes(
  d: D & { shares: Pick<Deps['shares'], 'scopesFor'> },
  user: UserRecord,
  groups: readonly string[],
): Promise<ScopeSet> {
  const owner = { kind: 'user' as const, name: user.name }
  const roles = d.roles.scopes(d.roles.ofUser(user.name, user.admin, groups), owner)
  const shared = await d.shares.scopesFor(user.name, groups)
  return shared.length ? union(roles, expand(shared, owner)) : roles
}

/** A token's scopes, never more than its owner's: `inherit` is all of them. */
export async function tokenScopes(
  d: D,
  token: Pick<TokenRecord, 'scopes' | 'server'>,
  user: UserRecord,
  owner: ScopeSet,
): Promise<ScopeSet> {
  if (token.scopes.includes('inherit')) return owner
  const requested = expand(token.scopes, { kind: 'user', name: user.name, server: `${user.name}/${token.server}` })
  return intersect(requested, owner, (u) => d.groups.ofUser(u))
}

/** A configured service's scopes: its roles' (a service has no default role). */
export function serviceScopes(d: Pick<Deps, 'roles'>, name: string): ScopeSet {
  return d.roles.scopes(d.roles.ofService(name), { kind: 'service', name })
}
