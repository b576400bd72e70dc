// XSRF tokens bound to who is asking, as JupyterHub does since 4.1 (CVE-2024-28233): forms echo the
// token in `_xsrf`, cookie-authenticated API calls in the X-XSRFToken header (or `?_xsrf=`), and the
// `edgehub-xsrf` cookie carries the same value for scripts. The token is an HMAC, with a cookie-signing
// key from Redis (sessions/cookie-keys.ts), of the session id when logged in, or of a pre-session value
// (the browser's User-Agent and address, JupyterHub's _anonymous_xsrf_id) on the login page. It is
// checked against what the request itself says (its session), never against the cookie: a cookie
// tossed by another page or by a user's server (path /hub/) is no help to whoever tossed it, and
// someone else's real token is the wrong one. Token-authenticated API calls are exempt, as in JupyterHub.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { Forbidden } from '../../../runtime/src/errors'
import { parseCookie } from '../sessions/cookie'
import { SESSION_COOKIE, XSRF_COOKIE } from '../state/keys'
import type { HubEnv } from './env'

export { XSRF_COOKIE }

/** `<kid>.<base64url HMAC-SHA256>`: the key id names the cookie-signing key, so rotation keeps pages working. */
const TOKEN = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{43})$/
const PURPOSE = 'edgehub-xsrf\0'

/** What a token is bound to: the login session, or for a browser without one, a pre-session value. */
type Subject = string

interface XsrfState {
  subject: Subject
  /** Secrets of the keys this request may name: the current one, and those its cookie, header or query name. */
  secrets: Map<string, string>
  current: string
}

const states = new WeakMap<Request, XsrfState>()

function mac(secret: string, subject: Subject): string {
  return createHmac('sha256', Buffer.from(secret, 'base64url'))
    .update(PURPOSE + subject)
    .digest('base64url')
}

/** The token for subject with key kid. */
export function xsrfToken(kid: string, secret: string, subject: Subject): string {
  return `${kid}.${mac(secret, subject)}`
}

const kidOf = (token: string | undefined) => (token ? TOKEN.exec(token)?.[1] : undefined)

// Addresses that say nothing about who is asking (a proxy, a cluster network), as in JupyterHub.
const PRIVATE = new BlockList()
for (const [net, bits] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of [
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6')

function clientAddress(c: Context<HubEnv>): string {
  // X-Real-IP is always set by the edge proxy: the client's address, through proxy.trustedProxies
  const addr = c.req.header('x-real-ip')?.trim() ?? ''
  const kind = isIP(addr)
  if (kind === 0) return 'unknown'
  return PRIVATE.check(addr, kind === 4 ? 'ipv4' : 'ipv6') ? 'private' : addr
}

/**
 * The login session's id for a cookie-authenticated caller, else the pre-session value. sid: the
 * session a response starts (a string) or ends (null) instead of the request's.
 */
function subjectOf(c: Context<HubEnv>, sid?: string | null): Subject {
  const id = c.var.identity
  const session = sid === undefined ? (id?.via === 'cookie' ? id.sid : undefined) : sid
  if (session) return `session:${session}`
  const h = createHash('sha256')
    .update(clientAddress(c))
    .update('\0')
    .update(c.req.header('user-agent') ?? '')
  return `anonymous:${h.digest('base64url')}`
}

/** Reads the keys this request needs (Redis, cached by CookieKeys) and remembers them for checkXsrf. */
async function prepare(c: Context<HubEnv>): Promise<XsrfState> {
  const known = states.get(c.req.raw)
  if (known) return known
  const keys = c.var.deps.cookieKeys
  const { kid, secret } = await keys.current()
  const secrets = new Map([[kid, secret]])
  for (const t of [getCookie(c, XSRF_COOKIE), c.req.header('x-xsrftoken'), c.req.query('_xsrf')]) {
    const k = kidOf(t)
    if (k && !secrets.has(k)) {
      const s = await keys.secret(k)
      if (s) secrets.set(k, s)
    }
  }
  const state = { subject: subjectOf(c), secrets, current: kid }
  states.set(c.req.raw, state)
  return state
}

function valid(state: XsrfState, token: string | undefined): boolean {
  const m = token ? TOKEN.exec(token) : null
  const secret = m && state.secrets.get(m[1])
  if (!m || !secret) return false
  const expected = Buffer.from(mac(secret, state.subject))
  const got = Buffer.from(m[2])
  return got.length === expected.length && timingSafeEqual(got, expected)
}

/** The session id a response's Set-Cookie starts (a login), null when it ends one, undefined when neither. */
function sessionSetBy(res: Response): string | null | undefined {
  for (const sc of res.headers.getSetCookie()) {
    if (!sc.startsWith(`${SESSION_COOKIE}=`)) continue
    const value = sc.slice(SESSION_COOKIE.length + 1).split(';')[0]
    return value ? (parseCookie(value)?.sid ?? null) : null
  }
  return undefined
}

/**
 * For pages: c.var.xsrf is this request's token (the cookie's when it is valid for this request, so a
 * page and its cookie agree), the cookie is set when it is not; after a login or logout in this
 * response, the cookie is set for the new session (or none).
 */
export function xsrfCookie(secure: boolean): MiddlewareHandler<HubEnv> {
  const set = (c: Context<HubEnv>, value: string) =>
    setCookie(c, XSRF_COOKIE, value, { path: '/hub/', sameSite: 'Lax', secure, httpOnly: false })
  return async (c, next) => {
    const state = await prepare(c)
    const cookie = getCookie(c, XSRF_COOKIE)
    if (cookie && valid(state, cookie)) {
      c.set('xsrf', cookie)
    } else {
      const token = xsrfToken(state.current, state.secrets.get(state.current)!, state.subject)
      set(c, token)
      c.set('xsrf', token)
    }
    await next()
    const sid = sessionSetBy(c.res)
    if (sid !== undefined) set(c, xsrfToken(state.current, state.secrets.get(state.current)!, subjectOf(c, sid)))
  }
}

/** Throws 403 unless the submitted value is this request's token (prepared by xsrfCookie or apiXsrf). */
export function checkXsrf(c: Context<HubEnv>, submitted: string | undefined): void {
  const state = states.get(c.req.raw)
  if (!state || !valid(state, submitted)) {
    throw new Forbidden('XSRF check failed: reload the page and try again')
  }
}

/** For API routes: cookie-authenticated writes must carry X-XSRFToken. */
export function apiXsrf(): MiddlewareHandler<HubEnv> {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && c.var.identity?.via === 'cookie') {
      await prepare(c)
      checkXsrf(c, c.req.header('x-xsrftoken') ?? c.req.query('_xsrf'))
    }
    await next()
  }
}
