// Logins that are not the password form: at an identity provider (the authenticator's redirect
// capability: /hub/oauth_login, /hub/oauth_callback, JupyterHub's OAuthenticator routes), and from the
// request itself (requestLogin: a trusted front's header, Kerberos). Every identity goes through
// admit() (the login policy), and a session starts as after the password form.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { deleteCookie, setCookie } from 'hono/cookie'
import type { Hono } from 'hono'
import { HubError } from '../../../runtime/src/errors'
import type { AuthJson, Identity } from '../../../auth/src'
import type { HubEnv } from '../http/env'
import { isSecure, safeNext, setSessionCookie } from '../http/respond'
import { LOGIN_FLOW_COOKIE } from '../state/keys'
import { clientAddress } from '../http/client-address'
import { publicUrl } from '../deps'
import { admit, type Admission } from '../sessions/admit'
import { ErrorPage } from './error-page'
import type { C } from './page-kit'
import { audit } from '../audit/audit'

/** A known identity the login policy keeps out (or the provider vouched for no one). */
const NOT_ADMITTED = 'You are not allowed to log in to this hub. Ask its administrators if you should be.'

/** How long a redirect login may take, from the login button to the callback. */
const FLOW_TTL_SEC = 600
/** A login flow's `next`, and all it keeps in Redis, are bounded: anyone may begin one. */
const MAX_NEXT = 2048
const MAX_FLOW_BYTES = 16 * 1024
/** Logins begun per client address per window, at most. */
const FLOWS_PER_WINDOW = 60
const FLOW_WINDOW_SEC = 60

/** Counts a login begun from `address` in the current window; false past FLOWS_PER_WINDOW. */
async function underFlowLimit(d: C['var']['deps'], address: string): Promise<boolean> {
  const key = d.keys.loginFlowCount(address)
  const [[, n]] = (await d.redis.multi().incr(key).expire(key, FLOW_WINDOW_SEC, 'NX').exec()) as [[null, number]]
  return n <= FLOWS_PER_WINDOW
}

/** The session for an admitted user, then on to `next`. */
export async function startSession(c: C, name: string, next: string): Promise<Response> {
  const d = c.var.deps
  const { cookie } = await d.sessions.create(name)
  setSessionCookie(c, cookie, d.config.sessions.maxAgeSec)
  d.log.info('user logged in', { user: name })
  audit(c, 'login', { target: name, actor: { kind: 'user', name, via: 'cookie' } })
  return c.redirect(next)
}

const refused = (c: C, status: 400 | 403 | 429, message: string) => {
  if (status !== 400) audit(c, 'login.failure', { target: null, outcome: 'denied', reason: REASONS[status], status })
  return c.html(<ErrorPage status={status} message={message} user={null} link="/hub/login" />, status)
}
const REASONS = { 403: 'refused', 429: 'throttled' } as const

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/**
 * Every login-flow cookie the browser sent, in order: more than one (a second planted by a page on
 * this origin with a narrower path) makes a callback no one's. Shared by the OpenID Connect callback
 * and the LTI launch.
 */
export function flowCookies(c: C): string[] {
  return (c.req.header('cookie') ?? '')
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(`${LOGIN_FLOW_COOKIE}=`))
    .map((p) => p.slice(LOGIN_FLOW_COOKIE.length + 1))
}

export const callbackUrl = (c: C) => `${publicUrl(c.var.deps.config)}/hub/oauth_callback`

export function redirectLoginRoutes(app: Hono<HubEnv>): void {
  // The login button (or auto-login): a flow kept in Redis under a fresh state, bound to this browser.
  app.get('/oauth_login', async (c) => {
    const d = c.var.deps
    const redirect = d.authenticator.redirect
    if (!redirect) return refused(c, 400, 'This hub does not log in at an identity provider.')
    // anyone may begin a login: bounded in size and, per client address, in number
    const asked = safeNext(c.req.query('next'))
    const next = asked.length <= MAX_NEXT ? asked : '/hub/'
    const address = clientAddress(c)
    if (!(await underFlowLimit(d, address))) {
      c.header('Retry-After', String(FLOW_WINDOW_SEC))
      return refused(c, 429, 'Too many logins begun from your address. Try again in a minute.')
    }
    const state = randomBytes(24).toString('base64url')
    const { url, flow } = await redirect.begin({ state, callbackUrl: callbackUrl(c) })
    const record = JSON.stringify({ flow, next })
    if (record.length > MAX_FLOW_BYTES) throw new Error('the authenticator kept too much for one login flow')
    await d.redis.set(d.keys.loginFlow(state), record, 'EX', FLOW_TTL_SEC)
    setCookie(c, LOGIN_FLOW_COOKIE, state, {
      path: '/hub/',
      httpOnly: true,
      sameSite: 'Lax', // the provider's redirect back is a top-level GET: the cookie comes with it
      secure: isSecure(c),
      maxAge: FLOW_TTL_SEC,
    })
    return c.redirect(url)
  })

  const callback = async (c: C, params: URLSearchParams) => {
    const d = c.var.deps
    const redirect = d.authenticator.redirect
    if (!redirect) return refused(c, 400, 'This hub does not log in at an identity provider.')
    const state = (params.get('state') ?? '').slice(0, 200)
    // every cookie of that name the browser sent: a second one (planted by a page on this origin,
    // with a narrower path) makes the callback no one's
    const sent = flowCookies(c)
    deleteCookie(c, LOGIN_FLOW_COOKIE, { path: '/hub/', secure: isSecure(c) })
    // the flow is used up by any callback naming it, matched or not, so a code that reaches the
    // wrong browser (or a script that made its callback fail) can never be replayed
    const saved = state ? await d.redis.getdel(d.keys.loginFlow(state)) : null
    // a callback this browser did not begin (login CSRF), or one used already, or too late
    if (!state || sent.length !== 1 || !sameText(state, sent[0]!))
      return refused(c, 403, 'This login was not begun in this browser, or it took too long. Log in again.')
    if (!saved) return refused(c, 403, 'This login has expired or was used already. Log in again.')
    const { flow, next } = JSON.parse(saved) as { flow: { [k: string]: AuthJson }; next: string }
    const error = params.get('error')
    if (error) {
      d.log.info('the identity provider refused a login', { error })
      return refused(c, 403, `The identity provider did not log you in (${error.slice(0, 100)}).`)
    }
    let identity: Identity | null
    try {
      identity = await redirect.complete({ params, flow, callbackUrl: callbackUrl(c) })
    } catch (err) {
      if (err instanceof HubError && err.expose) return refused(c, 403, err.message)
      throw err
    }
    const admitted: Admission = identity ? await admit(d, identity) : { ok: false, why: 'refused by the authenticator' }
    if (!admitted.ok) {
      d.log.info('login refused', { user: admitted.name ?? identity?.name, why: admitted.why })
      return refused(c, 403, NOT_ADMITTED)
    }
    return startSession(c, admitted.name, safeNext(next))
  }
  app.get('/oauth_callback', (c) => callback(c, new URL(c.req.url).searchParams))
}

/**
 * GET /hub/login with an authenticator that reads the request: the session when it names a user,
 * 'challenge' when it asks the browser for more (its headers, WWW-Authenticate: Negotiate, are set:
 * the login page goes with them, as a 401), undefined to show the login page.
 */
export async function loginFromRequest(c: C, next: string): Promise<Response | 'challenge' | undefined> {
  const d = c.var.deps
  if (!d.authenticator.requestLogin) return undefined
  const result = await d.authenticator.requestLogin({ headers: c.req.raw.headers, address: clientAddress(c) })
  if (!result) return undefined
  if ('challenge' in result) {
    for (const [k, v] of Object.entries(result.challenge)) c.header(k, v)
    return 'challenge'
  }
  const admitted = await admit(d, result)
  if (!admitted.ok) {
    d.log.info('login refused', { user: admitted.name ?? result.name, why: admitted.why })
    return refused(c, 403, NOT_ADMITTED)
  }
  return startSession(c, admitted.name, next)
}
