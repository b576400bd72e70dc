// Who is calling: a session cookie or an API token. Sets c.var.identity (null when nobody).
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { SESSION_COOKIE } from '../state/keys'
import { Forbidden, Unauthorized } from '../errors'
import type { HubEnv, Identity } from './env'

export function bearerToken(header: string | undefined): string | undefined {
  const m = header?.match(/^(?:token|bearer)\s+(\S+)\s*$/i)
  return m?.[1]
}

export function identify(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    const { sessions, tokens, users } = c.var.deps
    let identity: Identity | null = null
    const token = bearerToken(c.req.header('authorization'))
    if (token) {
      const rec = await tokens.verify(token)
      const user = rec && (await users.get(rec.user))
      if (user) identity = { user, via: 'token' }
    }
    if (!identity) {
      // As at the proxy: a bad token does not hide a good session cookie.
      const session = await sessions.verify(getCookie(c, SESSION_COOKIE))
      const user = session && (await users.get(session.user))
      if (user) identity = { user, via: 'cookie', sid: session.sid }
    }
    c.set('identity', identity)
    // Using the hub is activity too (as in JupyterHub); recorded at most once a minute per user.
    if (identity && !(Date.now() - Date.parse(identity.user.lastActivity ?? '') < ACTIVITY_RESOLUTION_MS)) {
      await users.touch(identity.user.name).catch(() => {})
    }
    await next()
  }
}

const ACTIVITY_RESOLUTION_MS = 60_000

export function currentUser(c: Context<HubEnv>): Identity {
  const id = c.var.identity
  if (!id) throw new Unauthorized()
  return id
}

/** The caller may act on user `name`'s servers: themselves, or an admin. */
export function requireSelfOrAdmin(c: Context<HubEnv>, name: string): Identity {
  const id = currentUser(c)
  if (id.user.name !== name && !id.user.admin) throw new Forbidden(`not allowed to act on user ${name}`)
  return id
}

export function requireAdmin(c: Context<HubEnv>): Identity {
  const id = currentUser(c)
  if (!id.user.admin) throw new Forbidden('admin only')
  return id
}
