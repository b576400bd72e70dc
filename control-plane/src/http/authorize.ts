// Scope checks for handlers: need() refuses, can() asks, target helpers load what a filter needs.
import type { Context } from 'hono'
import { Forbidden, NotFound } from '../errors'
import { has, hasAny, needsGroups, type Target } from '../scopes/scope-set'
import type { HubEnv, Identity } from './env'

type C = Context<HubEnv>

export function currentUser(c: C): Identity {
  const id = c.var.identity
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  return id
}

/** Whether the request's scopes grant any of `bases` on `target`. */
export function can(c: C, bases: string | readonly string[], target?: Target): boolean {
  const id = c.var.identity
  if (!id) return false
  return (typeof bases === 'string' ? [bases] : bases).some((b) => has(id.scopes, b, target))
}

/**
 * Refuses as JupyterHub does: 403 without credentials; 404 when the caller holds one of `bases`
 * for other resources only (missing and forbidden look the same); 403 when it holds none.
 */
export function need(c: C, bases: string | readonly string[], target?: Target): Identity {
  const id = c.var.identity
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  const list = typeof bases === 'string' ? [bases] : bases
  if (can(c, list, target)) return id
  if (target && list.some((b) => hasAny(id.scopes, b))) throw new NotFound('No access to resources or resources not found')
  throw new Forbidden(`Action is not authorized with current scopes; requires any of [${list.join(', ')}]`)
}

/** For list endpoints: the caller holds `base` for something (the list then shows what it covers). */
export function needSome(c: C, base: string): Identity {
  const id = c.var.identity
  if (!id) throw new Forbidden('Missing or invalid credentials.')
  if (!hasAny(id.scopes, base)) throw new Forbidden(`Action is not authorized with current scopes; requires any of [${base}]`)
  return id
}

/** A user as a scope target, with the user's groups when some scope filter could need them. */
export async function userTarget(c: C, user: string, ...bases: string[]): Promise<Target> {
  const id = c.var.identity
  if (!id || !needsGroups(id.scopes, ...bases)) return { user }
  return { user, groups: await c.var.deps.groups.ofUser(user) }
}

export async function serverTarget(c: C, user: string, server: string, ...bases: string[]): Promise<Target> {
  return { ...(await userTarget(c, user, ...bases)), server: `${user}/${server}` }
}
