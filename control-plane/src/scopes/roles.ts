// Roles: named sets of scopes. The default ones are JupyterHub's; the config adds or redefines roles
// and assigns them to users, groups and services.
import type { Config } from '../config/schema'
import { expand, union, type Owner, type ScopeSet } from './scope-set'

export interface Role {
  name: string
  description: string
  scopes: readonly string[]
  users: readonly string[]
  groups: readonly string[]
  services: readonly string[]
}

const none = { users: [], groups: [], services: [] }

export const DEFAULT_ROLES: readonly Role[] = [
  { name: 'user', description: 'Standard user privileges', scopes: ['self'], ...none },
  {
    name: 'admin',
    description: 'Elevated privileges (can do anything)',
    scopes: [
      'admin-ui',
      'admin:users',
      'admin:servers',
      'admin:services',
      'tokens',
      'admin:groups',
      'list:services',
      'read:services',
      'read:hub',
      'proxy',
      'shutdown',
      'access:services',
      'access:servers',
      'read:roles',
      'read:metrics',
      'shares',
    ],
    ...none,
  },
  {
    name: 'server',
    description: 'Post activity only',
    scopes: ['users:activity!user', 'access:servers!server'],
    ...none,
  },
  { name: 'token', description: 'Token with same permissions as its owner', scopes: ['inherit'], ...none },
]

export class Roles {
  readonly byName = new Map<string, Role>()

  /**
   * adminAccess (proxy.adminAccess, true by default): the admin role holds access:servers, as
   * JupyterHub's does, so admins open users' servers and issue tokens for them. False drops the scope
   * from the admin role (in the API, in OAuth and at the proxy): admins then manage servers without
   * opening them.
   */
  constructor(
    configured: Config['roles'],
    private readonly adminAccess = true,
  ) {
    for (const r of DEFAULT_ROLES) this.byName.set(r.name, r)
    for (const r of configured) this.byName.set(r.name, r)
  }

  /** Role names of a user: `user` always, `admin` for admins, and configured assignments. */
  ofUser(name: string, admin: boolean, groups: readonly string[]): string[] {
    const out = ['user']
    if (admin) out.push('admin')
    for (const r of this.byName.values()) {
      if (r.name === 'user' || r.name === 'admin') continue
      if (r.users.includes(name) || r.groups.some((g) => groups.includes(g))) out.push(r.name)
    }
    return out
  }

  ofGroup(group: string): string[] {
    return [...this.byName.values()].filter((r) => r.groups.includes(group)).map((r) => r.name)
  }

  /** What a token asked for without scopes or roles gets: the `token` role's scopes (JupyterHub's default). */
  defaultTokenScopes(): string[] {
    return [...(this.byName.get('token')?.scopes ?? ['inherit'])]
  }

  ofService(name: string): string[] {
    return [...this.byName.values()].filter((r) => r.services.includes(name)).map((r) => r.name)
  }

  scopes(roleNames: readonly string[], owner: Owner): ScopeSet {
    return union(
      ...roleNames.map((n) => {
        const set = expand(this.byName.get(n)?.scopes ?? [], owner)
        if (n === 'admin' && !this.adminAccess) set.delete('access:servers')
        return set
      }),
    )
  }
}
