// What the proxy needs to apply access:servers at the edge (docs/redis-schema.md, "access"): the
// compact grant of a scope set, per token and per user (with the user's groups).
import type { Deps } from '../deps'
import { createHash } from 'node:crypto'
import { expand, type ScopeSet } from './scope-set'
import { acquireLock, type Guard } from '../spawn/lock'
import { waitFor } from '../../../runtime/src/wait'

export type EdgeGrant = 'all' | { user?: string[]; server?: string[]; group?: string[] }

/** access:servers of `set` in the proxy's form; `{}` when it grants none. */
export function edgeGrant(set: ScopeSet): EdgeGrant {
  const f = set.get('access:servers')
  if (f === 'all') return 'all'
  const out: { user?: string[]; server?: string[]; group?: string[] } = {}
  for (const k of ['user', 'server', 'group'] as const) if (f?.[k]?.size) out[k] = [...f[k]!].sort()
  return out
}

/** A token's own limit at the edge: none for `inherit` (the user's access applies alone). */
export function tokenEdgeGrant(scopes: readonly string[], user: string, server: string): EdgeGrant | undefined {
  if (scopes.includes('inherit')) return undefined
  return edgeGrant(expand(scopes, { kind: 'user', name: user, server: `${user}/${server}` }))
}

type D = Pick<Deps, 'groups' | 'roles' | 'tables' | 'shares' | 'redis' | 'keys'>

/**
 * Writes (or removes) the user's entry in the proxy's access table: groups, and servers beyond the
 * user's own that configured roles grant or that are shared with the user or the user's groups. The
 * admin role is left out: the proxy applies it from the admin flag and the admin_access setting.
 */
export async function publishAccess(d: D, name: string): Promise<void> {
  // One replica at a time per user, reading the inputs under the lock: the last writer has read the
  // latest state, so two replicas publishing for one user cannot leave the older view behind.
  const key = d.keys.accessLock(name)
  const lock = await waitFor(`the access lock of ${name}`, () => acquireLock(d.redis, key, ACCESS_LOCK_MS), {
    timeoutMs: 10_000,
    intervalMs: 10,
  })
  try {
    await computeAndWrite(d, name, lock.guard)
  } finally {
    await lock.release()
  }
}

const ACCESS_LOCK_MS = 5000

async function computeAndWrite(d: D, name: string, guard: Guard): Promise<void> {
  // by name, whether or not the user exists yet: a user a role names gets it at first login
  const groups = await d.groups.ofUser(name)
  const roles = d.roles.ofUser(name, false, groups)
  const grant = edgeGrant(d.roles.scopes(roles, { kind: 'user', name }))
  if (grant !== 'all' && grant.user) grant.user = grant.user.filter((n) => n !== name)
  if (grant !== 'all' && grant.user && !grant.user.length) delete grant.user
  const shared =
    grant === 'all' ? [] : (await d.shares.serversFor(name, groups)).filter((s) => !s.startsWith(`${name}/`))
  if (grant !== 'all' && shared.length) grant.server = [...new Set([...(grant.server ?? []), ...shared])].sort()
  const empty = grant !== 'all' && !Object.keys(grant).length
  const cur = await d.tables.get<unknown>('access', name)
  if (!groups.length && empty) {
    if (cur !== undefined) await d.tables.del('access', name, guard)
    return
  }
  const value = { groups, grants: grant }
  if (JSON.stringify(cur) !== JSON.stringify(value)) await d.tables.set('access', name, value, guard)
}

/** At start: every user a role, group or share could concern, and every entry written before. */
export async function publishAllAccess(d: D): Promise<void> {
  const names = new Set<string>(Object.keys(await d.tables.getAll('access')))
  for (const u of await d.shares.userGrantees()) names.add(u)
  for (const r of d.roles.byName.values()) r.users.forEach((u) => names.add(u))
  // every group's members (those of groups a role names among them)
  for (const g of await d.groups.names()) (await d.groups.get(g))?.users.forEach((u) => names.add(u))
  for (const n of names) await publishAccess(d, n)
}

/**
 * At a replica's start: republishes every access entry when the configured roles differ from those
 * the entries were computed with (group and share changes are published as they happen). Keeps a
 * start fast however many users there are, when the roles did not change.
 */
export async function publishAccessIfRolesChanged(d: D & Pick<Deps, 'redis' | 'keys' | 'config'>): Promise<boolean> {
  const digest = createHash('sha256')
    .update(JSON.stringify([d.config.roles, d.config.proxy.adminAccess]))
    .digest('hex')
  if ((await d.redis.get(d.keys.rolesDigest)) === digest) return false
  await publishAllAccess(d)
  await d.redis.set(d.keys.rolesDigest, digest)
  return true
}
