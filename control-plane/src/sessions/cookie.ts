// Session cookie format shared with proxy/lua/edgehub/session.lua (docs/redis-schema.md, "Session cookie").
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { COOKIE_VERSION, SESSION_COOKIE } from '../state/keys'

export interface CookieClaims {
  kid: string
  user: string
  sid: string
  exp: number
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

export function newSessionId(): string {
  return randomBytes(16).toString('base64url')
}

export function newKeySecret(): string {
  return randomBytes(32).toString('base64url')
}

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'base64url')).update(payload).digest()
}

export function signCookie(claims: CookieClaims, secret: string): string {
  const payload = [COOKIE_VERSION, claims.kid, b64url(claims.user), claims.sid, String(claims.exp)].join('.')
  return `${payload}.${b64url(mac(secret, payload))}`
}

/** Reads a cookie value without checking it; null when it is not well formed. */
export function parseCookie(value: string): (CookieClaims & { payload: string; sig: string }) | null {
  const parts = value.split('.')
  if (parts.length !== 6 || parts[0] !== COOKIE_VERSION) return null
  const [, kid, user64, sid, exp, sig] = parts
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid) || !/^[A-Za-z0-9_-]{22}$/.test(sid) || !/^\d{1,12}$/.test(exp)) return null
  if (!/^[A-Za-z0-9_-]+$/.test(user64) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return null
  const user = Buffer.from(user64, 'base64url').toString('utf8')
  if (!user || b64url(user) !== user64) return null
  return { kid, user, sid, exp: Number(exp), payload: parts.slice(0, 5).join('.'), sig }
}

/** Checks signature and expiry; revocation is the caller's job. */
export function verifyCookie(
  value: string,
  secretFor: (kid: string) => string | undefined,
  nowSec = Math.floor(Date.now() / 1000),
): CookieClaims | null {
  const c = parseCookie(value)
  if (!c) return null
  const secret = secretFor(c.kid)
  if (!secret) return null
  // Compare the canonical base64url text, as the proxy does, so both sides accept the same cookies.
  const expected = Buffer.from(b64url(mac(secret, c.payload)))
  const got = Buffer.from(c.sig)
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null
  if (c.exp <= nowSec) return null
  return { kid: c.kid, user: c.user, sid: c.sid, exp: c.exp }
}

/**
 * The value of the one session cookie in a Cookie header; undefined when there is none or more than
 * one. Two cookies of that name mean another path's cookie (or a tossed one) stands beside the hub's,
 * and which one is "the" session is not a question to answer: nobody is logged in. Parsed as the
 * proxy does (proxy/lua/edgehub/session.lua, cookie_values, and identity.lua): pairs split at ';',
 * name and value trimmed, the value taken as sent.
 */
export function sessionCookieValue(header: string | undefined, name = SESSION_COOKIE): string | undefined {
  if (!header?.includes(name)) return undefined
  let found: string | undefined
  let count = 0
  for (const pair of header.split(';')) {
    const m = /^\s*([^=\s]+)\s*=\s*(.*?)\s*$/.exec(pair)
    if (m && m[1] === name) {
      count++
      found = m[2]
    }
  }
  return count === 1 ? found : undefined
}
