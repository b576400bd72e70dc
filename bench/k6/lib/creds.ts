// Credentials of the benchmark users (bench-0 … bench-(N-1)) for the k6 scripts.
//
// The proxy lets a request into /user/NAME/ only with NAME's own credential (an admin's token does
// not open other users' servers unless the hub runs with proxy.adminAccess), so every benchmark
// user needs a session cookie or an API token of their own. They come from, in this order:
//
// - USER_TOKENS_FILE: a text file of "NAME TOKEN" lines (blank lines and # comments ignored), for
//   example written with the edgehub CLI (see bench/README.md). Tokens only; an absolute path is
//   safest (k6 resolves relative ones against the script).
// - otherwise setup() logs every user in through POST /hub/login with PASSWORD (default
//   params.login.password), which gives the session cookie, and, where a token is needed, has each
//   user issue one for themselves with that cookie (POST /hub/api/users/NAME/tokens). Those tokens
//   expire after TOKEN_TTL_SEC and are revoked again in teardown(); the sessions are logged out.
//
// The users must exist with that password. With ADMIN_USER and ADMIN_PASSWORD (an admin's login),
// setup() creates the missing ones through the admin page's form (POST /hub/admin/users), which
// sets the password; already existing users are left as they are. Otherwise create them with the
// CLI first (bench/README.md). With the dummy authenticator any user may log in and is created on
// first login.
import http from 'k6/http'
import type { ObjectBatchRequest, Response } from 'k6/http'
import { SharedArray } from 'k6/data'
import { fail } from 'k6'
import { envInt, envStr } from './env.ts'
import { userName, type BenchParams } from './params.ts'

export const SESSION_COOKIE = 'edgehub-session'
export const XSRF_COOKIE = 'edgehub-xsrf'

export type AuthMode = 'cookie' | 'token'

/** What setup() hands to every VU: user i's token and session cookie, where obtained. */
export interface Creds {
  /** Users bench-0 … bench-(count-1). */
  count: number
  /** Tokens issued in setup(); empty when they come from USER_TOKENS_FILE. */
  tokens: string[]
  /** Ids of the tokens issued in setup(), revoked in teardown(). */
  tokenIds: string[]
  /** Session cookies from logging in during setup(); empty when none were needed. */
  cookies: string[]
}

/**
 * The double-submit XSRF value: the hub accepts any well-formed edgehub-xsrf cookie (32 characters
 * of [A-Za-z0-9_-]) as long as the form field or X-XSRFToken header repeats it, so the scripts pick
 * one instead of fetching the login page first. One per VU.
 */
export const XSRF = (() => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'
  let s = ''
  for (let i = 0; i < 32; i++) s += abc[Math.floor(Math.random() * abc.length)]
  return s
})()

/** Requests per http.batch() call in setup() and teardown(); also the options' batch limits. */
export const SETUP_BATCH = envInt('SETUP_BATCH', 20)

/** The k6 options setup()'s parallel requests need. */
export const batchOptions = { batch: SETUP_BATCH, batchPerHost: SETUP_BATCH }

// ---- USER_TOKENS_FILE ----

let fileTokens: string[] = []

/** Call once in the script's init context: reads USER_TOKENS_FILE when set (shared by all VUs). */
export function loadUserTokens(p: BenchParams): void {
  const path = __ENV.USER_TOKENS_FILE
  if (!path) return
  fileTokens = new SharedArray('user-tokens', () => parseTokenFile(open(path), p.userPrefix, path))
}

function parseTokenFile(text: string, prefix: string, path: string): string[] {
  const out: string[] = []
  const lines = text.split(/\r?\n/)
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim()
    if (!line || line.startsWith('#')) continue
    const [name, token, extra] = line.split(/\s+/)
    if (!token || extra !== undefined) throw new Error(`${path}:${n + 1}: expected "NAME TOKEN"`)
    if (!name.startsWith(prefix)) continue
    const i = name.slice(prefix.length)
    if (/^(0|[1-9]\d*)$/.test(i)) out[Number(i)] = token
  }
  for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = ''
  return out
}

// ---- per-request credentials ----

export function tokenOf(c: Creds, i: number): string {
  const t = c.tokens.length ? c.tokens[i] : fileTokens[i]
  if (!t) throw new Error(`no token for ${i}`)
  return t
}

export function cookieOf(c: Creds, i: number): string {
  const s = c.cookies[i]
  if (!s) throw new Error(`no session cookie for ${i}`)
  return s
}

/** Headers that authenticate user i at the proxy (also usable for a WebSocket upgrade). */
export function authHeaders(mode: AuthMode, c: Creds, i: number): Record<string, string> {
  return mode === 'token' ? { Authorization: `token ${tokenOf(c, i)}` } : { Cookie: `${SESSION_COOKIE}=${cookieOf(c, i)}` }
}

/** Headers for a hub API call as user i: the token, or else the session cookie with its XSRF value. */
export function apiHeaders(c: Creds, i: number): Record<string, string> {
  if (c.tokens.length || fileTokens[i]) return { Authorization: `token ${tokenOf(c, i)}` }
  return { Cookie: `${SESSION_COOKIE}=${cookieOf(c, i)}; ${XSRF_COOKIE}=${XSRF}`, 'X-XSRFToken': XSRF }
}

/** Headers for a hub API call with ADMIN_TOKEN, or null when it is not set. */
export function adminHeaders(): Record<string, string> | null {
  const t = __ENV.ADMIN_TOKEN
  return t ? { Authorization: `token ${t}` } : null
}

// ---- logging in and issuing tokens ----

/** A fresh cookie jar: setup() talks as many users, whose cookies must not mix in the VU's jar. */
export const freshJar = () => new http.CookieJar()

/** POST /hub/login as the form on the login page sends it. */
export function loginRequest(base: string, user: string, password: string, tags: Record<string, string> = {}): ObjectBatchRequest {
  return {
    method: 'POST',
    url: `${base}/hub/login`,
    body: { _xsrf: XSRF, username: user, password },
    params: { redirects: 0, jar: freshJar(), headers: { Cookie: `${XSRF_COOKIE}=${XSRF}` }, tags: { name: 'POST /hub/login', ...tags } },
  }
}

/** The session cookie a successful login sets ('' when it did not). */
export function sessionOf(res: Response): string {
  const c = res.cookies[SESSION_COOKIE]
  return res.status === 302 && c && c.length && c[0].value ? c[0].value : ''
}

/** Runs requests in parallel groups of SETUP_BATCH; `each` sees every response with its index. */
export function inBatches(count: number, make: (i: number) => ObjectBatchRequest, each: (res: Response, i: number) => void, label = ''): void {
  for (let start = 0; start < count; start += SETUP_BATCH) {
    const n = Math.min(SETUP_BATCH, count - start)
    const reqs: ObjectBatchRequest[] = []
    for (let k = 0; k < n; k++) reqs.push(make(start + k))
    const res = http.batch(reqs)
    for (let k = 0; k < n; k++) each(res[k], start + k)
    const done = start + n
    if (label && count >= 1000 && (done % 1000 < SETUP_BATCH || done === count)) console.log(`${label}: ${done}/${count}`)
  }
}

const snippet = (res: Response) => (typeof res.body === 'string' ? res.body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').slice(0, 200) : '')

/**
 * Creates the missing users with the password through the admin page's form, when ADMIN_USER and
 * ADMIN_PASSWORD are set (otherwise does nothing); existing users are left as they are.
 */
export function createUsers(base: string, names: string[], password: string): void {
  const admin = __ENV.ADMIN_USER
  const adminPassword = __ENV.ADMIN_PASSWORD
  if (!admin || !adminPassword) return
  const login = loginRequest(base, admin, adminPassword)
  const res = http.request(login.method, login.url as string, login.body, login.params)
  const session = sessionOf(res)
  if (!session) fail(`logging in as ADMIN_USER=${admin} failed: HTTP ${res.status} ${snippet(res)}`)
  let created = 0
  inBatches(
    names.length,
    (i) => ({
      method: 'POST',
      url: `${base}/hub/admin/users`,
      body: { _xsrf: XSRF, username: names[i], password },
      params: { redirects: 0, jar: freshJar(), headers: { Cookie: `${SESSION_COOKIE}=${session}; ${XSRF_COOKIE}=${XSRF}` }, tags: { name: 'POST /hub/admin/users' } },
    }),
    (r, i) => {
      if (r.status === 302) created++
      else if (r.status !== 409) fail(`creating ${names[i]} through /hub/admin/users: HTTP ${r.status} ${snippet(r)}`)
    },
    'creating users',
  )
  if (created) console.log(`created ${created} users (password from PASSWORD or params.login.password)`)
  http.get(`${base}/hub/logout`, { redirects: 0, jar: freshJar(), headers: { Cookie: `${SESSION_COOKIE}=${session}` } })
}

function loginAll(base: string, names: string[], password: string): string[] {
  const cookies: string[] = []
  inBatches(
    names.length,
    (i) => loginRequest(base, names[i], password),
    (res, i) => {
      const s = sessionOf(res)
      if (!s) {
        fail(
          `logging in as ${names[i]} failed: HTTP ${res.status} ${snippet(res)}. The benchmark users must exist with ` +
            'the password PASSWORD (default params.login.password): set ADMIN_USER and ADMIN_PASSWORD to have them created, ' +
            'create them with the edgehub CLI (bench/README.md), or give USER_TOKENS_FILE for token authentication.',
        )
      }
      cookies[i] = s
    },
    'logging in',
  )
  return cookies
}

function issueTokens(base: string, names: string[], cookies: string[]): { tokens: string[]; ids: string[] } {
  const tokens: string[] = []
  const ids: string[] = []
  const body = JSON.stringify({ note: 'edgehub benchmark (k6)', expires_in: envInt('TOKEN_TTL_SEC', 6 * 3600) })
  inBatches(
    names.length,
    (i) => ({
      method: 'POST',
      url: `${base}/hub/api/users/${encodeURIComponent(names[i])}/tokens`,
      body,
      params: {
        redirects: 0,
        jar: freshJar(),
        headers: { 'Content-Type': 'application/json', Cookie: `${SESSION_COOKIE}=${cookies[i]}; ${XSRF_COOKIE}=${XSRF}`, 'X-XSRFToken': XSRF },
        tags: { name: 'POST /hub/api/users/NAME/tokens' },
      },
    }),
    (res, i) => {
      const m = res.status === 201 ? (res.json() as { token?: string; id?: string } | null) : null
      if (!m || !m.token || !m.id) fail(`issuing a token for ${names[i]}: HTTP ${res.status} ${snippet(res)}`)
      tokens[i] = m.token
      ids[i] = m.id
    },
    'issuing tokens',
  )
  return { tokens, ids }
}

function logoutAll(base: string, cookies: string[]): void {
  inBatches(
    cookies.length,
    (i) => ({ method: 'GET', url: `${base}/hub/logout`, params: { redirects: 0, jar: freshJar(), headers: { Cookie: `${SESSION_COOKIE}=${cookies[i]}` }, tags: { name: 'GET /hub/logout' } } }),
    () => {},
  )
}

/**
 * For setup(): credentials of users 0 … count-1. `cookie`: each user's session cookie (logs them
 * in); `token`: an API token each (USER_TOKENS_FILE, or issued here).
 */
export function prepareCredentials(base: string, p: BenchParams, count: number, need: { cookie?: boolean; token?: boolean }): Creds {
  const names: string[] = []
  for (let i = 0; i < count; i++) names.push(userName(p, i))
  const creds: Creds = { count, tokens: [], tokenIds: [], cookies: [] }
  const fromFile = !!need.token && fileTokens.length > 0
  if (fromFile) {
    const missing = names.filter((_, i) => !fileTokens[i])
    if (missing.length) fail(`USER_TOKENS_FILE has no token for ${missing.length} of the ${count} users needed (first: ${missing[0]})`)
  }
  if (!need.cookie && (!need.token || fromFile)) return creds
  const password = envStr('PASSWORD', p.login.password)
  createUsers(base, names, password)
  const cookies = loginAll(base, names, password)
  if (need.token && !fromFile) {
    const t = issueTokens(base, names, cookies)
    creds.tokens = t.tokens
    creds.tokenIds = t.ids
  }
  if (need.cookie) creds.cookies = cookies
  else logoutAll(base, cookies)
  return creds
}

/** For teardown(): revokes the tokens prepareCredentials issued and ends its login sessions. */
export function releaseCredentials(base: string, p: BenchParams, c: Creds): void {
  let failed = 0
  if (c.tokenIds.length) {
    inBatches(
      c.tokenIds.length,
      (i) => ({
        method: 'DELETE',
        url: `${base}/hub/api/users/${encodeURIComponent(userName(p, i))}/tokens/${encodeURIComponent(c.tokenIds[i])}`,
        params: { redirects: 0, jar: freshJar(), headers: { Authorization: `token ${c.tokens[i]}` }, tags: { name: 'DELETE /hub/api/users/NAME/tokens/ID' } },
      }),
      (res) => {
        if (res.status !== 204) failed++
      },
    )
    if (failed) console.warn(`${failed} of the ${c.tokenIds.length} benchmark tokens were not revoked (they expire after TOKEN_TTL_SEC)`)
  }
  if (c.cookies.length) logoutAll(base, c.cookies)
}
