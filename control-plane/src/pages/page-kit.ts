// What the page sub-apps share: the request's raw path and the login redirect, reading a form (its
// XSRF field checked), spawn query options, where a server is entered, and who is looking.
import type { Context } from 'hono'
import { BadRequest } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { checkXsrf } from '../http/xsrf'
import { serverBaseUrl } from '../spawn/orchestrator'
import { serverUrl } from '../http/subdomain'
import { landingUrl } from '../../../spawners/src'
import { can } from '../http/authorize'

export type C = Context<HubEnv>

export const LOGIN_FAILED = 'Invalid user name or password.'
export const LOGIN_LOCKED =
  'Too many failed logins: logging in under this name is locked. An administrator can unlock it.'
/** Codes of start refusals a page shows as they are (orchestrator.start). */
export const REFUSALS = new Set(['limit', 'named_servers_disabled', 'active_server_limit'])

/**
 * The path as the client sent it, percent-encoding kept (c.req.path is decoded): what a Location
 * header or a next= parameter must carry, or a name like café.ipynb reaches the browser as raw bytes
 * and an encoded line break breaks the header.
 */
export const rawPath = (c: C) => new URL(c.req.url).pathname

/** The query as the client sent it, with its `?` ('' without one), encoding kept as rawPath keeps it. */
export const rawQuery = (c: C) => (c.req.url.includes('?') ? c.req.url.slice(c.req.url.indexOf('?')) : '')

export function loginRedirect(c: C) {
  return c.redirect(`/hub/login?next=${encodeURIComponent(rawPath(c) + rawQuery(c))}`)
}

export async function form(c: C): Promise<Record<string, string>> {
  const body = await c.req.parseBody().catch(() => {
    throw new BadRequest('expected a form body')
  })
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v
  checkXsrf(c, out._xsrf)
  return out
}

/**
 * JupyterHub's spawn query options (its SpawnHandler with the default options_from_query): every
 * query argument of a spawn URL but `next` becomes a user option holding the list of its values,
 * `?image=x&tag=a&tag=b` giving {"image": ["x"], "tag": ["a", "b"]}. None: null, so the options
 * recorded for the server are used again, as JupyterHub's spawn without query arguments does.
 */
export function spawnQueryOptions(c: C): Record<string, string[]> | null {
  const out: Record<string, string[]> = {}
  for (const [k, values] of Object.entries(c.req.queries())) if (k !== 'next') out[k] = values
  return Object.keys(out).length ? out : null
}

/** A server's path on its owner's host with subdomainHost (http/subdomain.ts), else the path. */
export const onHost = (c: C, owner: string, path: string) => serverUrl(c.var.deps.config.subdomainHost, owner, path)

/** Where the hub sends someone into a server: spawner.defaultUrl under its URL (JupyterHub's Spawner.default_url), on its host. */
export const landing = (c: C, owner: string, server: string) =>
  onHost(c, owner, landingUrl(serverBaseUrl(owner, server), owner, c.var.deps.config.spawner.defaultUrl))

export const viewer = (c: C) => (c.var.identity ? { name: c.var.identity.user.name, admin: can(c, 'admin-ui') } : null)
