// What a user, or a token of a user, may do: role scopes from Redis-held membership and the config.
import type { Deps } from '../deps'
import type { UserRecord } from '../state/users'
import type { TokenRecord } from '../state/tokens'
import { expand, intersect, type ScopeSet } from './scope-set'

type D = Pick<Deps, 'roles' | 'groups'>

export function userScopes(d: D, user: UserRecord, groups: readonly string[]): ScopeSet {
  return d.roles.scopes(d.roles.ofUser(user.name, user.admin, groups), { kind: 'user', name: user.name })
}

/** A token's scopes, never more than its owner's: `inherit` is all of them. */
export async function tokenScopes(d: D, token: Pick<TokenRecord, 'scopes' | 'server'>, user: UserRecord, owner: ScopeSet): Promise<ScopeSet> {
  if (token.scopes.includes('inherit')) return owner
  const requested = expand(token.scopes, { kind: 'user', name: user.name, server: `${user.name}/${token.server}` })
  return intersect(requested, owner, (u) => d.groups.ofUser(u))
}

/** A configured service's scopes: its roles' (a service has no default role). */
export function serviceScopes(d: Pick<Deps, 'roles'>, name: string): ScopeSet {
  return d.roles.scopes(d.roles.ofService(name), { kind: 'service', name })
}
