// Who is calling: a session cookie or an API token. Sets c.var.identity (null when nobody), with the
// scopes this request carries.
import type { MiddlewareHandler } from 'hono'
import { sessionCookieValue } from '../sessions/cookie'
import { FRAME_HEADERS } from '../pages/layout'
import { serviceScopes, tokenScopes, userScopes } from '../scopes/resolve'
import type { Deps } from '../deps'
import type { HubEnv, Identity } from './env'

export function bearerToken(header: string | undefined): string | undefined {
  const m = header?.match(/^(?:token|bearer)\s+(\S+)\s*$/i)
  return m?.[1]
}

/** A user's record and groups, read in one round trip to Redis (sent together, auto-pipelined). */
const userAndGroups = (d: Deps, name: string) => Promise.all([d.users.get(name), d.groups.ofUser(name)])

export function identify(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    // every answer under /hub/ (pages, error pages, redirects, API): framed by the hub's own pages only
    for (const [name, value] of Object.entries(FRAME_HEADERS)) c.header(name, value)
    const d = c.var.deps
    let identity: Identity | null = null
    c.set('service', null)
    const token =
      bearerToken(c.req.header('authorization')) ??
      (d.config.hub.tokenInQuery && c.req.path.startsWith('/hub/api') ? c.req.query('token') : undefined)
    if (token) {
      const rec = await d.tokens.verify(token)
      if (rec?.service) c.set('service', { name: rec.service, token: rec, scopes: serviceScopes(d, rec.service) })
      const [user, groups] = rec && !rec.service ? await userAndGroups(d, rec.user) : [null, []]
      if (rec && user) {
        const scopes = await tokenScopes(d, rec, user, await userScopes(d, user, groups))
        identity = { user, via: 'token', token: rec, groups, scopes }
        if (!(Date.now() - Date.parse(rec.lastActivity ?? '') < ACTIVITY_RESOLUTION_MS))
          await d.tokens.touch(rec.id).catch(() => {})
      }
    }
    if (!identity && !c.var.service) {
      // As at the proxy: a bad token does not hide a good session cookie; two session cookies are none.
      const session = await d.sessions.verify(sessionCookieValue(c.req.header('cookie')))
      const [user, groups] = session ? await userAndGroups(d, session.user) : [null, []]
      if (session && user) {
        identity = { user, via: 'cookie', sid: session.sid, groups, scopes: await userScopes(d, user, groups) }
      }
    }
    c.set('identity', identity)
    // Using the hub is activity too (as in JupyterHub); recorded at most once a minute per user. A
    // server's own calls (its token) are not the user's doing.
    if (
      identity &&
      identity.token?.kind !== 'server' &&
      !(Date.now() - Date.parse(identity.user.lastActivity ?? '') < ACTIVITY_RESOLUTION_MS)
    ) {
      await d.users.touch(identity.user.name).catch(() => {})
    }
    await next()
  }
}

const ACTIVITY_RESOLUTION_MS = 60_000
