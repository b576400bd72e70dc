// Scope checks for handlers: need() refuses, can() asks, target helpers load what a filter needs.
import type { Context } from 'hono'
import { Forbidden, Unauthorized } from '../errors'
import { has, needsGroups, type Target } from '../scopes/scope-set'
import type { HubEnv, Identity } from './env'

type C = Context<HubEnv>

export function currentUser(c: C): Identity {
  const id = c.var.identity
  if (!id) throw new Unauthorized()
  return id
}

/** Whether the request's scopes grant any of `bases` on `target`. */
export function can(c: C, bases: string | readonly string[], target?: Target): boolean {
  const id = c.var.identity
  if (!id) return false
  return (typeof bases === 'string' ? [bases] : bases).some((b) => has(id.scopes, b, target))
}

/** Throws 401 without a caller, 403 when no scope in `bases` covers `target`. */
export function need(c: C, bases: string | readonly string[], target?: Target): Identity {
  const id = currentUser(c)
  const list = typeof bases === 'string' ? [bases] : bases
  if (!can(c, list, target)) throw new Forbidden(`Action is not authorized with current scopes; requires any of [${list.join(', ')}]`)
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
