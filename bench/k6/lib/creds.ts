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
//   params.login.password), which gives the session cookie and its XSRF token, and, where a token
//   is needed, has each user issue one for themselves with that session (POST
//   /hub/api/users/NAME/tokens). Those tokens expire after TOKEN_TTL_SEC and are revoked again in
//   teardown(); the sessions are logged out.
//
// The users must exist with that password. With ADMIN_USER and ADMIN_PASSWORD (an admin's login),
// setup() creates the missing ones through the admin page's form (POST /hub/admin/users), which
// sets the password; already existing users are left as they are. Otherwise create them with the
// CLI first (bench/README.md). With the dummy authenticator any user may log in and is created on
// first login.
//
// XSRF, as the hub checks it: the login form carries the token of the login page (loginFormToken,
// once per VU), and a session's forms and cookie-authenticated API calls carry the token the hub set
// with that session's login (Session.xsrf). The requests themselves are built in requests.ts, free
// of k6, so test/e2e/bench/k6-requests.test.ts replays them against a real hub; this file sends them.
import http from 'k6/http'
import type { ObjectBatchRequest, Response } from 'k6/http'
import { SharedArray } from 'k6/data'
import { fail } from 'k6'
import { envInt, envStr } from './env.ts'
import { userName, type BenchParams } from './params.ts'
import {
  addUserRequest,
  formXsrfOf,
  issuedToken,
  issueTokenRequest,
  loginPageRequest,
  loginRequest,
  logoutRequest,
  revokeTokenRequest,
  SESSION_COOKIE,
  sessionApiHeaders,
  sessionOf,
  type HubAnswer,
  type HubRequest,
  type Session,
} from './requests.ts'

export type AuthMode = 'cookie' | 'token'

/** What setup() hands to every VU: user i's token and login session, where obtained. */
export interface Creds {
  /** Users bench-0 … bench-(count-1). */
  count: number
  /** Tokens issued in setup(); empty when they come from USER_TOKENS_FILE. */
  tokens: string[]
  /** Ids of the tokens issued in setup(), revoked in teardown(). */
  tokenIds: string[]
  /** Login sessions from setup() (cookie and XSRF token each); empty when none were needed. */
  sessions: Session[]
}

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

export function sessionAt(c: Creds, i: number): Session {
  const s = c.sessions[i]
  if (!s) throw new Error(`no login session for ${i}`)
  return s
}

const hasToken = (c: Creds, i: number) => c.tokens.length > 0 || !!fileTokens[i]

/**
 * Headers that authenticate user i at the proxy (also usable for a WebSocket upgrade): the token, or
 * the session cookie alone (the XSRF cookie's path is /hub/: a browser does not send it to /user/).
 */
export function authHeaders(mode: AuthMode, c: Creds, i: number): Record<string, string> {
  return mode === 'token'
    ? { Authorization: `token ${tokenOf(c, i)}` }
    : { Cookie: `${SESSION_COOKIE}=${sessionAt(c, i).cookie}` }
}

/** Headers that let user i through the proxy to their server: their token where there is one, else their session cookie. */
export function ownHeaders(c: Creds, i: number): Record<string, string> {
  return authHeaders(hasToken(c, i) ? 'token' : 'cookie', c, i)
}

/** Headers for a hub API call as user i: the token, or else the session's cookies with its XSRF token in X-XSRFToken. */
export function apiHeaders(c: Creds, i: number): Record<string, string> {
  if (hasToken(c, i)) return { Authorization: `token ${tokenOf(c, i)}` }
  return sessionApiHeaders(sessionAt(c, i))
}

/** Headers for a hub API call with ADMIN_TOKEN, or null when it is not set. */
export function adminHeaders(): Record<string, string> | null {
  const t = __ENV.ADMIN_TOKEN
  return t ? { Authorization: `token ${t}` } : null
}

// ---- sending requests.ts's requests with k6 ----

/** A fresh cookie jar: setup() talks as many users, whose cookies must not mix in the VU's jar. */
export const freshJar = () => new http.CookieJar()

/** A HubRequest for k6: no redirect followed, a fresh jar (the request's own Cookie header only), its name tag. */
export function k6Request(req: HubRequest, tags: Record<string, string> = {}): ObjectBatchRequest {
  return {
    method: req.method,
    url: req.url,
    body: req.body,
    params: { redirects: 0, jar: freshJar(), headers: req.headers, tags: { name: req.name, ...tags } },
  }
}

/** Sends one HubRequest. */
export function send(req: HubRequest, tags: Record<string, string> = {}): Response {
  const r = k6Request(req, tags)
  return http.request(r.method, r.url as string, r.body, r.params)
}

/** What requests.ts reads of a k6 response; a cookie set more than once counts with its last value, as in a browser. */
export function answerOf(res: Response): HubAnswer {
  const cookies: Record<string, string | undefined> = {}
  for (const name of Object.keys(res.cookies)) {
    const list = res.cookies[name]
    if (list.length) cookies[name] = list[list.length - 1].value
  }
  return { status: res.status, body: typeof res.body === 'string' ? res.body : '', cookies }
}

// ---- logging in and issuing tokens ----

/**
 * The login form's XSRF token, from GET /hub/login, fetched once per VU and kept for all of its
 * logins (setup() runs in a VU of its own and fetches its own). Before login the hub binds the token
 * to the client's User-Agent and address, and a VU has one of each (k6's userAgent option; one
 * source address, or one of options.localIPs per VU), so one page serves every login the VU makes,
 * as one browser tab's login page would. Fetching it per login would add a page load to every login;
 * the local scenario (bench/scenarios/login.ts) loads the page once before its storm and times only
 * the form posts, and login.ts does the same: the page is loaded before the posts start, and
 * login_duration is the post alone. A 403 "XSRF check failed" on logins means the hub saw this VU
 * from changing addresses (public addresses behind several egress points).
 */
let formXsrf = ''

export function loginFormToken(base: string): string {
  if (formXsrf) return formXsrf
  const res = send(loginPageRequest(base), { kind: 'login-page' })
  formXsrf = formXsrfOf(answerOf(res))
  if (!formXsrf)
    fail(
      `GET ${base}/hub/login gave no XSRF token (no edgehub-xsrf cookie, no _xsrf field): HTTP ${res.status} ${snippet(res)}`,
    )
  return formXsrf
}

/** POST /hub/login as the login page's form sends it, with this VU's login-form token. */
export function loginPost(
  base: string,
  user: string,
  password: string,
  tags: Record<string, string> = {},
): ObjectBatchRequest {
  return k6Request(loginRequest(base, user, password, loginFormToken(base)), tags)
}

/** The session a login's response started, with the XSRF token it came with; null when the login failed. */
export function loginSession(res: Response): Session | null {
  return sessionOf(answerOf(res))
}

/** Runs requests in parallel groups of SETUP_BATCH; `each` sees every response with its index. */
export function inBatches(
  count: number,
  make: (i: number) => ObjectBatchRequest,
  each: (res: Response, i: number) => void,
  label = '',
): void {
  for (let start = 0; start < count; start += SETUP_BATCH) {
    const n = Math.min(SETUP_BATCH, count - start)
    const reqs: ObjectBatchRequest[] = []
    for (let k = 0; k < n; k++) reqs.push(make(start + k))
    const res = http.batch(reqs)
    for (let k = 0; k < n; k++) each(res[k], start + k)
    const done = start + n
    if (label && count >= 1000 && (done % 1000 < SETUP_BATCH || done === count))
      console.log(`${label}: ${done}/${count}`)
  }
}

function snippet(res: Response): string {
  return typeof res.body === 'string'
    ? res.body
        .replace(/<[^>]*>/g, ' ')
        .replace(/\s+/g, ' ')
        .slice(0, 200)
    : ''
}

/**
 * Creates the missing users with the password through the admin page's form, when ADMIN_USER and
 * ADMIN_PASSWORD are set (otherwise does nothing); existing users are left as they are. The form
 * carries the XSRF token of the admin's session, from the admin's login.
 */
export function createUsers(base: string, names: string[], password: string): void {
  const admin = __ENV.ADMIN_USER
  const adminPassword = __ENV.ADMIN_PASSWORD
  if (!admin || !adminPassword) return
  const login = loginPost(base, admin, adminPassword)
  const res = http.request(login.method, login.url as string, login.body, login.params)
  const session = loginSession(res)
  if (!session) fail(`logging in as ADMIN_USER=${admin} failed: HTTP ${res.status} ${snippet(res)}`)
  let created = 0
  inBatches(
    names.length,
    (i) => k6Request(addUserRequest(base, session, names[i], password)),
    (r, i) => {
      if (r.status === 302) created++
      else if (r.status !== 409) fail(`creating ${names[i]} through /hub/admin/users: HTTP ${r.status} ${snippet(r)}`)
    },
    'creating users',
  )
  if (created) console.log(`created ${created} users (password from PASSWORD or params.login.password)`)
  send(logoutRequest(base, session))
}

function loginAll(base: string, names: string[], password: string): Session[] {
  const sessions: Session[] = []
  inBatches(
    names.length,
    (i) => loginPost(base, names[i], password),
    (res, i) => {
      const s = loginSession(res)
      if (!s) {
        fail(
          `logging in as ${names[i]} failed: HTTP ${res.status} ${snippet(res)}. The benchmark users must exist with ` +
            'the password PASSWORD (default params.login.password): set ADMIN_USER and ADMIN_PASSWORD to have them created, ' +
            'create them with the edgehub CLI (bench/README.md), or give USER_TOKENS_FILE for token authentication.',
        )
      }
      sessions[i] = s
    },
    'logging in',
  )
  return sessions
}

function issueTokens(base: string, names: string[], sessions: Session[]): { tokens: string[]; ids: string[] } {
  const tokens: string[] = []
  const ids: string[] = []
  const ttl = envInt('TOKEN_TTL_SEC', 6 * 3600)
  inBatches(
    names.length,
    (i) => k6Request(issueTokenRequest(base, names[i], sessions[i], 'edgehub benchmark (k6)', ttl)),
    (res, i) => {
      const t = issuedToken(answerOf(res))
      if (!t) fail(`issuing a token for ${names[i]}: HTTP ${res.status} ${snippet(res)}`)
      tokens[i] = t.token
      ids[i] = t.id
    },
    'issuing tokens',
  )
  return { tokens, ids }
}

function logoutAll(base: string, sessions: Session[]): void {
  inBatches(
    sessions.length,
    (i) => k6Request(logoutRequest(base, sessions[i])),
    () => {},
  )
}

/**
 * For setup(): credentials of users 0 … count-1. `cookie`: each user's login session (logs them
 * in); `token`: an API token each (USER_TOKENS_FILE, or issued here).
 */
export function prepareCredentials(
  base: string,
  p: BenchParams,
  count: number,
  need: { cookie?: boolean; token?: boolean },
): Creds {
  const names: string[] = []
  for (let i = 0; i < count; i++) names.push(userName(p, i))
  const creds: Creds = { count, tokens: [], tokenIds: [], sessions: [] }
  const fromFile = !!need.token && fileTokens.length > 0
  if (fromFile) {
    const missing = names.filter((_, i) => !fileTokens[i])
    if (missing.length)
      fail(`USER_TOKENS_FILE has no token for ${missing.length} of the ${count} users needed (first: ${missing[0]})`)
  }
  if (!need.cookie && (!need.token || fromFile)) return creds
  const password = envStr('PASSWORD', p.login.password)
  createUsers(base, names, password)
  const sessions = loginAll(base, names, password)
  if (need.token && !fromFile) {
    const t = issueTokens(base, names, sessions)
    creds.tokens = t.tokens
    creds.tokenIds = t.ids
  }
  if (need.cookie) creds.sessions = sessions
  else logoutAll(base, sessions)
  return creds
}

/** For teardown(): revokes the tokens prepareCredentials issued and ends its login sessions. */
export function releaseCredentials(base: string, p: BenchParams, c: Creds): void {
  let failed = 0
  if (c.tokenIds.length) {
    inBatches(
      c.tokenIds.length,
      (i) => k6Request(revokeTokenRequest(base, userName(p, i), c.tokenIds[i], c.tokens[i])),
      (res) => {
        if (res.status !== 204) failed++
      },
    )
    if (failed)
      console.warn(
        `${failed} of the ${c.tokenIds.length} benchmark tokens were not revoked (they expire after TOKEN_TTL_SEC)`,
      )
  }
  if (c.sessions.length) logoutAll(base, c.sessions)
}
