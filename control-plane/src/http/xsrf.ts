// XSRF protection (double-submit): a random cookie that forms echo in `_xsrf` and cookie-authenticated
// API calls echo in the X-XSRFToken header. Token-authenticated API calls are exempt, as in JupyterHub.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { Forbidden } from '../errors'
import type { HubEnv } from './env'

export const XSRF_COOKIE = 'edgehub-xsrf'

export function xsrfCookie(secure: boolean): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    let value = getCookie(c, XSRF_COOKIE)
    if (!value || !/^[A-Za-z0-9_-]{32}$/.test(value)) {
      value = randomBytes(24).toString('base64url')
      setCookie(c, XSRF_COOKIE, value, { path: '/hub/', sameSite: 'Lax', secure, httpOnly: false })
    }
    c.set('xsrf', value)
    await next()
  }
}

function same(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false
  return timingSafeEqual(Buffer.from(a), Buffer.from(b))
}

/** Throws 403 unless the submitted value matches the cookie. */
export function checkXsrf(c: Context<HubEnv>, submitted: string | undefined): void {
  const cookie = getCookie(c, XSRF_COOKIE)
  if (!cookie || !same(submitted, cookie)) {
    throw new Forbidden('XSRF check failed: reload the page and try again')
  }
}

/** For API routes: cookie-authenticated writes must carry X-XSRFToken. */
export function apiXsrf(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.var.identity?.via === 'cookie') {
      checkXsrf(c, c.req.header('x-xsrftoken') ?? c.req.query('_xsrf'))
    }
    await next()
  }
}
