// The hub requests the k6 scripts send to get and give back credentials, as plain data: built and
// read here without k6, so that creds.ts (a thin layer that sends them with k6/http) and the test
// that replays them with fetch against a real hub (test/e2e/bench/k6-requests.test.ts) use the
// same code. Nothing here imports k6 or reads the environment.
//
// XSRF, as the hub checks it (control-plane/src/http/xsrf.ts, JupyterHub 4.1's rules): a form post
// or a cookie-authenticated API write must carry the token the hub computed for whoever is asking.
// Before login that is the client (its User-Agent and address), and the login page gives it (the
// edgehub-xsrf cookie and the form's _xsrf field); after login it is the session, and the login's
// answer gives it (edgehub-xsrf again). Every token these requests carry is one read from such an
// answer by formXsrfOf or sessionOf; none is made up, and a made-up one is refused with 403.

export const SESSION_COOKIE = 'edgehub-session'
export const XSRF_COOKIE = 'edgehub-xsrf'

/** A request as the scripts send it: the body already encoded, its Content-Type among the headers. */
export interface HubRequest {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  body: string | null
  headers: Record<string, string>
  /** The k6 `name` tag: one set of figures per kind of request, not per URL. */
  name: string
}

/** What the scripts read of an answer. cookies: each name's value in the last Set-Cookie for it ('' when cleared). */
export interface HubAnswer {
  status: number
  body: string
  cookies: Record<string, string | undefined>
}

/** A login session as the scripts keep it: its cookie and the XSRF token the login's answer gave with it. */
export interface Session {
  cookie: string
  xsrf: string
}

/** application/x-www-form-urlencoded, as a browser encodes the form (k6 has no URLSearchParams). */
export function formBody(fields: Record<string, string>): string {
  return Object.keys(fields)
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(fields[k])}`)
    .join('&')
}

const FORM = 'application/x-www-form-urlencoded'
const userPart = (name: string) => encodeURIComponent(name)

// ---- before login: the login page and its form ----

/** GET /hub/login without cookies: the page a browser loads before it posts the form. */
export function loginPageRequest(base: string): HubRequest {
  return { method: 'GET', url: `${base}/hub/login`, body: null, headers: {}, name: 'GET /hub/login' }
}

/** The hidden _xsrf field of a page's form ('' when there is none). */
export function xsrfField(html: string): string {
  const inputs = html.match(/<input\b[^>]*>/gi) ?? []
  for (const input of inputs) {
    if (!/\bname\s*=\s*["']_xsrf["']/i.test(input)) continue
    const m = /\bvalue\s*=\s*["']([^"']*)["']/i.exec(input)
    return m ? m[1] : ''
  }
  return ''
}

/**
 * The login form's XSRF token from the login page's answer: its edgehub-xsrf cookie, else the
 * form's _xsrf field (the same value); '' when the page gave neither (then the login would be refused).
 */
export function formXsrfOf(page: HubAnswer): string {
  if (page.status !== 200) return ''
  return page.cookies[XSRF_COOKIE] || xsrfField(page.body)
}

/** POST /hub/login as the login page's form sends it: the page's token in the field and in its cookie. */
export function loginRequest(base: string, user: string, password: string, formXsrf: string): HubRequest {
  return {
    method: 'POST',
    url: `${base}/hub/login`,
    body: formBody({ _xsrf: formXsrf, username: user, password }),
    headers: { 'Content-Type': FORM, Cookie: `${XSRF_COOKIE}=${formXsrf}` },
    name: 'POST /hub/login',
  }
}

/**
 * The session a login's answer starts: 302 with the session cookie, and the session's XSRF token in
 * the edgehub-xsrf cookie the hub sets with it. null when the login did not succeed or gave no token.
 */
export function sessionOf(login: HubAnswer): Session | null {
  const cookie = login.cookies[SESSION_COOKIE]
  const xsrf = login.cookies[XSRF_COOKIE]
  return login.status === 302 && cookie && xsrf ? { cookie, xsrf } : null
}

// ---- with a session: what a browser holding it sends ----

/** The Cookie header a browser sends to /hub/… with this session: the session cookie and its XSRF cookie. */
export function sessionCookies(s: Session): string {
  return `${SESSION_COOKIE}=${s.cookie}; ${XSRF_COOKIE}=${s.xsrf}`
}

/** Headers of a cookie-authenticated hub API call, as JupyterHub's pages make it: the cookies and X-XSRFToken. */
export function sessionApiHeaders(s: Session): Record<string, string> {
  return { Cookie: sessionCookies(s), 'X-XSRFToken': s.xsrf }
}

/** The admin page's add-user form (POST /hub/admin/users), posted with the admin's session. */
export function addUserRequest(base: string, admin: Session, user: string, password: string): HubRequest {
  return {
    method: 'POST',
    url: `${base}/hub/admin/users`,
    body: formBody({ _xsrf: admin.xsrf, username: user, password }),
    headers: { 'Content-Type': FORM, Cookie: sessionCookies(admin) },
    name: 'POST /hub/admin/users',
  }
}

/** A user issuing a token for themselves with their session (POST /hub/api/users/NAME/tokens). */
export function issueTokenRequest(
  base: string,
  user: string,
  s: Session,
  note: string,
  expiresInSec: number,
): HubRequest {
  return {
    method: 'POST',
    url: `${base}/hub/api/users/${userPart(user)}/tokens`,
    body: JSON.stringify({ note, expires_in: expiresInSec }),
    headers: { 'Content-Type': 'application/json', ...sessionApiHeaders(s) },
    name: 'POST /hub/api/users/NAME/tokens',
  }
}

/** The token and its id from issueTokenRequest's answer (201), or null. */
export function issuedToken(answer: HubAnswer): { token: string; id: string } | null {
  if (answer.status !== 201) return null
  let m: { token?: unknown; id?: unknown }
  try {
    m = JSON.parse(answer.body) as { token?: unknown; id?: unknown }
  } catch {
    return null
  }
  return m && typeof m.token === 'string' && m.token && typeof m.id === 'string' && m.id
    ? { token: m.token, id: m.id }
    : null
}

/** GET /hub/logout with the session (a GET, so no XSRF token, as in JupyterHub). */
export function logoutRequest(base: string, s: Session): HubRequest {
  return {
    method: 'GET',
    url: `${base}/hub/logout`,
    body: null,
    headers: { Cookie: `${SESSION_COOKIE}=${s.cookie}` },
    name: 'GET /hub/logout',
  }
}

// ---- with a token ----

/** Revokes a token with itself (DELETE /hub/api/users/NAME/tokens/ID): token-authenticated, no XSRF. */
export function revokeTokenRequest(base: string, user: string, id: string, token: string): HubRequest {
  return {
    method: 'DELETE',
    url: `${base}/hub/api/users/${userPart(user)}/tokens/${encodeURIComponent(id)}`,
    body: null,
    headers: { Authorization: `token ${token}` },
    name: 'DELETE /hub/api/users/NAME/tokens/ID',
  }
}
