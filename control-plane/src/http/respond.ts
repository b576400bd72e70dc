// Shared page helpers: safe "next" targets, session cookies.
import type { Context } from 'hono'
import { deleteCookie, setCookie } from 'hono/cookie'
import { SESSION_COOKIE } from '../state/keys'
import type { HubEnv } from './env'

/** Only local absolute paths: no scheme, no //host, no backslashes. */
export function safeNext(next: string | undefined, fallback = '/hub/'): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.includes('\\') || /[\u0000-\u001f]/.test(next))
    return fallback
  return next
}

export function isSecure(c: Context<HubEnv>): boolean {
  return c.var.deps.publicUrl.startsWith('https:') || c.req.header('x-forwarded-proto') === 'https'
}

export function setSessionCookie(c: Context<HubEnv>, value: string, maxAgeSec: number): void {
  setCookie(c, SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: isSecure(c),
    maxAge: Math.floor(maxAgeSec),
  })
}

export function clearSessionCookie(c: Context<HubEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isSecure(c) })
}
