// GET /hub/handoff?next=/user/NAME/…: with per-user hosts (subdomainHost), how a browser logged in
// at the hub gets logged in on a user's host. The proxy sends a visitor without that host's cookie
// here; the hub, on its own host, answers with a redirect to the user's host carrying a hand-off
// signed with the current cookie-signing key, valid for HANDOFF_TTL_SEC and for that host only
// (proxy/lua/edgehub/handoff.lua checks it and sets the host's own cookie). The hand-off says who
// the visitor is, nothing more: whether they may use that server is decided by the proxy, as on the
// hub's host. Not logged in: the login page, then back here.
import type { Context } from 'hono'
import { BadRequest, NotFound } from '../../../runtime/src/errors'
import type { HubEnv } from '../http/env'
import { userOfPath, userOrigin } from '../http/subdomain'
import { parseCookie, sessionCookieValue } from '../sessions/cookie'

import { HANDOFF_TTL_SEC, signHandoff } from '../sessions/handoff-token'

/** The path next names, when it is a path of a user's server; else undefined. */
function serverPath(next: string | undefined): { path: string; name: string } | undefined {
  if (!next?.startsWith('/user/') || next.length > 4096 || next.includes('\\') || /[\u0000-\u001f\u007f]/.test(next))
    return undefined
  const name = userOfPath(next)
  return name ? { path: next, name } : undefined
}

export async function handoff(c: Context<HubEnv>): Promise<Response> {
  const d = c.var.deps
  if (!d.config.subdomainHost) throw new NotFound('not found')
  const target = serverPath(c.req.query('next'))
  if (!target) throw new BadRequest('next: expected the path of a server, /user/NAME/…')
  const id = c.var.identity
  if (id?.via !== 'cookie') {
    const self = `/hub/handoff?next=${encodeURIComponent(target.path)}`
    return c.redirect(`/hub/login?next=${encodeURIComponent(self)}`)
  }
  const session = parseCookie(sessionCookieValue(c.req.header('cookie')) ?? '')
  if (!session || session.sid !== id.sid) throw new BadRequest('no session')
  const origin = userOrigin(d.config.subdomainHost, target.name)
  const { kid, secret } = await d.cookieKeys.current()
  const t = signHandoff(
    {
      kid,
      user: session.user,
      sid: session.sid,
      exp: session.exp,
      host: new URL(origin).host,
      until: Math.floor(Date.now() / 1000) + HANDOFF_TTL_SEC,
    },
    secret,
  )
  c.header('Cache-Control', 'no-store')
  c.header('Referrer-Policy', 'no-referrer')
  return c.redirect(`${origin}/_edgehub/handoff?t=${t}&next=${encodeURIComponent(target.path)}`)
}
