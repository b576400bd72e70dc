// The middleware that records the audited API and page actions (routes.ts) once the handler answered.
import type { Context, MiddlewareHandler } from 'hono'
import type { HubEnv } from '../http/env'
import { actorOf, audit, outcomeOf } from './audit'
import { apiAction, pageAction } from './routes'

type C = Context<HubEnv>
type Body = Record<string, unknown> | undefined

/**
 * kind 'api': paths below `prefix` are the REST API's. kind 'pages': the pages' forms.
 * outer: the request whose client address and id count (the admin page's in-process API calls).
 */
export function auditRequests(kind: 'api' | 'pages', prefix: string, outer?: (c: C) => C): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    await next()
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return
    if (!c.req.path.startsWith(prefix)) return
    const path = c.req.path.slice(prefix.length) || '/'
    const body = kind === 'api' ? await jsonBody(c) : undefined
    const hit = kind === 'api' ? apiAction(method, path, body) : pageAction(method, path, c.var.identity?.user.name)
    if (!hit) return
    const status = c.res.status
    const at = outer ? outer(c) : c
    const details = await detailsOf(c, hit.action, body, status)
    audit(at, hit.action, {
      target: hit.target || (details.target as string) || null,
      outcome: outcomeOf(status),
      actor: actorOf(c),
      status,
      ...details,
    })
  }
}

/** The JSON body the handler read (Hono keeps it), or undefined; never logged whole. */
async function jsonBody(c: C): Promise<Body> {
  if (!c.req.header('content-type')?.includes('json')) return undefined
  try {
    const b = await c.req.json()
    return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const names = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 100) : undefined)

/** What a change touched, never a value that could be a secret (a token, a password, a share code). */
async function detailsOf(c: C, action: string, body: Body, status: number): Promise<Record<string, unknown>> {
  const d: Record<string, unknown> = {}
  if (action === 'user.modify' && body) {
    d.changes = Object.keys(body).filter((k) => /^[\w-]{1,40}$/.test(k))
    if (typeof body.admin === 'boolean') d.admin = body.admin
    if (typeof body.name === 'string') d.new_name = body.name
    if (Array.isArray(body.roles)) d.roles = names(body.roles)
  }
  if (action === 'user.create' && body) {
    if (names(body.usernames)) d.users = names(body.usernames)
    if (typeof body.admin === 'boolean') d.admin = body.admin
  }
  if ((action === 'group.members.add' || action === 'group.members.remove') && body) d.users = names(body.users)
  if (action === 'group.create' && body && names(body.groups)) d.groups = names(body.groups)
  if (action === 'group.modify' && body) d.changes = Object.keys(body).filter((k) => /^[\w-]{1,40}$/.test(k))
  if ((action === 'share.create' || action === 'share.revoke') && body) {
    if (typeof body.user === 'string') d.user = body.user
    if (typeof body.group === 'string') d.group = body.group
  }
  if (action === 'token.create') {
    if (body && names(body.scopes)) d.scopes = names(body.scopes)
    // the answer holds the new token: only its id is read from it
    if (status < 300 && c.res.headers.get('content-type')?.includes('json')) {
      try {
        const id = ((await c.res.clone().json()) as { id?: unknown }).id
        if (typeof id === 'string') d.token_id = id
      } catch {}
    }
  }
  return d
}
