// Scope checks for handlers: need() refuses, can() asks, target helpers load what a filter needs.
import type { Context } from 'hono'
import { Forbidden, NotFound } from '../../../runtime/src/errors'
import { has, hasAny, needsGroups, type ScopeSet, type Target } from '../scopes/scope-set'
import type { HubEnv, Identity } from './env'

type C = Context<HubEnv>

export function currentUser(c: C): Identity {
  const id = c.var.identity
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  return id
}

export type Principal = { kind: 'user' | 'service'; name: string; scopes: ScopeSet }

/** Who is calling, user or service, with the request's scopes; undefined when nobody. */
export function principal(c: C): Principal | undefined {
  const id = c.var.identity
  if (id) return { kind: 'user', name: id.user.name, scopes: id.scopes }
  const s = c.var.service
  return s ? { kind: 'service', name: s.name, scopes: s.scopes } : undefined
}

/** Whether the request's scopes grant any of `bases` on `target`. */
export function can(c: C, bases: string | readonly string[], target?: Target): boolean {
  const id = principal(c)
  if (!id) return false
  return (typeof bases === 'string' ? [bases] : bases).some((b) => has(id.scopes, b, target))
}

/**
 * Refuses as JupyterHub does: 403 without credentials; 404 when the caller holds one of `bases`
 * for other resources only (missing and forbidden look the same); 403 when it holds none.
 */
export function need(c: C, bases: string | readonly string[], target?: Target): Principal {
  const id = principal(c)
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  const list = typeof bases === 'string' ? [bases] : bases
  if (can(c, list, target)) return id
  if (target && list.some((b) => hasAny(id.scopes, b)))
    throw new NotFound('No access to resources or resources not found')
  throw new Forbidden(`Action is not authorized with current scopes; requires any of [${list.join(', ')}]`)
}

/** For list endpoints: the caller holds `base` for something (the list then shows what it covers). */
export function needSome(c: C, base: string): Principal {
  const id = principal(c)
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  if (!hasAny(id.scopes, base))
    throw new Forbidden(`Action is not authorized with current scopes; requires any of [${base}]`)
  return id
}

/** A user as a scope target, with the user's groups when some scope filter could need them. */
export async function userTarget(c: C, user: string, ...bases: string[]): Promise<Target> {
  const id = principal(c)
  if (!id || !needsGroups(id.scopes, ...bases)) return { user }
  return { user, groups: await c.var.deps.groups.ofUser(user) }
}

export async function serverTarget(c: C, user: string, server: string, ...bases: string[]): Promise<Target> {
  return { ...(await userTarget(c, user, ...bases)), server: `${user}/${server}` }
}

/** The caller is an admin (a user with the flag, or a service with the admin role): only admins make or change admins. */
export function callerIsAdmin(c: C): boolean {
  if (c.var.identity) return c.var.identity.user.admin
  const s = c.var.service
  return !!s && c.var.deps.roles.ofService(s.name).includes('admin')
}
