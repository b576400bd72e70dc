// The requests the k6 scripts make to get and give back credentials (bench/k6/lib/requests.ts, sent
// with k6 by bench/k6/lib/creds.ts), replayed with fetch against a real stack (Redis, hub, nginx
// proxy) in the order setup() and teardown() send them. k6 does not run here: this is what shows
// that a hub with session-bound XSRF tokens accepts what the scripts send, and that every token they
// send is one the hub gave them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { cli } from '../../support/people'
import {
  addUserRequest,
  formXsrfOf,
  issuedToken,
  issueTokenRequest,
  loginPageRequest,
  loginRequest,
  logoutRequest,
  revokeTokenRequest,
  sessionApiHeaders,
  sessionOf,
  xsrfField,
  XSRF_COOKIE,
  type HubAnswer,
  type HubRequest,
  type Session,
} from '../../../bench/k6/lib/requests'

const PASSWORD = 'bench-password-123'
const ADMIN = { name: 'bench-admin', password: 'bench-admin-password' }
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{43}$/

let stack: Stack

beforeAll(async () => {
  stack = await startStack({ spawner: { 'local-process': { command: ['true'] } } })
  cli(stack, ['user', 'add', ADMIN.name, '--admin', '--password-stdin'], ADMIN.password)
})
afterAll(async () => {
  await stack?.stop()
})

/**
 * Sends a HubRequest as creds.ts's k6Request does (no redirect followed, no cookie but the request's
 * own Cookie header) and reads the answer as answerOf does: each cookie's last Set-Cookie value.
 * `extra` headers stand for another client (a different User-Agent).
 */
async function send(r: HubRequest, extra: Record<string, string> = {}): Promise<HubAnswer> {
  const res = await fetch(r.url, {
    method: r.method,
    headers: { ...r.headers, ...extra },
    body: r.body ?? undefined,
    redirect: 'manual',
  })
  const cookies: Record<string, string | undefined> = {}
  for (const sc of res.headers.getSetCookie()) {
    const pair = sc.split(';')[0]
    const i = pair.indexOf('=')
    cookies[pair.slice(0, i).trim()] = pair.slice(i + 1).trim()
  }
  return { status: res.status, body: await res.text(), cookies }
}

/** loginFormToken: the login page's token, as one VU fetches it once. */
async function formToken(extra: Record<string, string> = {}): Promise<string> {
  const page = await send(loginPageRequest(stack.url), extra)
  expect(page.status).toBe(200)
  const token = formXsrfOf(page)
  expect(token).toMatch(TOKEN_SHAPE)
  return token
}

/** loginPost + loginSession: a login with the VU's form token, and the session it starts. */
async function logIn(name: string, password: string, form: string): Promise<Session> {
  const res = await send(loginRequest(stack.url, name, password, form))
  const s = sessionOf(res)
  expect(s, `login as ${name}: HTTP ${res.status}`).not.toBeNull()
  return s!
}

async function whoAmI(headers: Record<string, string>): Promise<number | string> {
  const r = await fetch(`${stack.url}/hub/api/user`, { headers, redirect: 'manual' })
  return r.status === 200 ? ((await r.json()) as { name: string }).name : r.status
}

describe('k6 credential requests against a real hub', () => {
  it('setup() and teardown(): users added on the admin page, logins, own tokens, revocation, logout', async () => {
    const names = ['bench-0', 'bench-1', 'bench-2']
    // setup()'s VU loads the login page once; its token serves every login this VU makes
    const form = await formToken()

    // createUsers: the admin logs in, adds the users with the form of the admin's session, logs out
    const admin = await logIn(ADMIN.name, ADMIN.password, form)
    expect(admin.xsrf).toMatch(TOKEN_SHAPE)
    expect(admin.xsrf).not.toBe(form)
    const added = await Promise.all(names.map((n) => send(addUserRequest(stack.url, admin, n, PASSWORD))))
    expect(added.map((a) => a.status)).toEqual([302, 302, 302])
    // run again: the users exist, which createUsers takes as such (409), not as a refusal
    expect((await send(addUserRequest(stack.url, admin, names[0], PASSWORD))).status).toBe(409)
    expect((await send(logoutRequest(stack.url, admin))).status).toBe(302)

    // loginAll: every user at once (http.batch), all with the one form token
    const sessions = await Promise.all(names.map((n) => logIn(n, PASSWORD, form)))
    expect(new Set(sessions.map((s) => s.xsrf)).size).toBe(names.length)

    // issueTokens: each user issues a token with their session (cookie and X-XSRFToken)
    const tokens = await Promise.all(
      names.map(async (n, i) =>
        issuedToken(await send(issueTokenRequest(stack.url, n, sessions[i], 'edgehub benchmark (k6)', 3600))),
      ),
    )
    for (const [i, t] of tokens.entries()) {
      expect(t, names[i]).not.toBeNull()
      expect(await whoAmI({ authorization: `token ${t!.token}` })).toBe(names[i])
    }

    // servers.ts with sessions only (no token): a cookie-authenticated API write as apiHeaders builds it
    const stop = await fetch(`${stack.url}/hub/api/users/${names[0]}/server`, {
      method: 'DELETE',
      headers: sessionApiHeaders(sessions[0]),
      redirect: 'manual',
    })
    expect(stop.status, await stop.text()).not.toBe(403)
    expect([202, 204, 400]).toContain(stop.status)

    // releaseCredentials: tokens revoked with themselves, sessions logged out
    const revoked = await Promise.all(
      names.map((n, i) => send(revokeTokenRequest(stack.url, n, tokens[i]!.id, tokens[i]!.token))),
    )
    expect(revoked.map((r) => r.status)).toEqual([204, 204, 204])
    expect(await whoAmI({ authorization: `token ${tokens[0]!.token}` })).not.toBe(names[0])
    const out = await Promise.all(sessions.map((s) => send(logoutRequest(stack.url, s))))
    expect(out.map((o) => o.status)).toEqual([302, 302, 302])
    expect(await whoAmI({ cookie: `edgehub-session=${sessions[0].cookie}` })).not.toBe(names[0])
  })

  it("reads the same login-form token from the page's _xsrf field as from its cookie", async () => {
    const page = await send(loginPageRequest(stack.url))
    expect(page.cookies[XSRF_COOKIE]).toMatch(TOKEN_SHAPE)
    expect(xsrfField(page.body)).toBe(page.cookies[XSRF_COOKIE])
    // without the cookie, formXsrfOf falls back to the field
    expect(formXsrfOf({ ...page, cookies: {} })).toBe(page.cookies[XSRF_COOKIE])
    expect(formXsrfOf({ status: 200, body: '<form></form>', cookies: {} })).toBe('')
  })

  it('is refused with what the scripts sent before: a made-up token, or one fetched as another client', async () => {
    await send(
      addUserRequest(stack.url, await logIn(ADMIN.name, ADMIN.password, await formToken()), 'bench-9', PASSWORD),
    )
    const madeUp = 'A'.repeat(32)
    const refused = await send(loginRequest(stack.url, 'bench-9', PASSWORD, madeUp))
    expect(refused.status).toBe(403)
    expect(sessionOf(refused)).toBeNull()
    // the form token is bound to the client (User-Agent and address): one VU's token is not another's
    const otherClient = await formToken({ 'user-agent': 'another browser' })
    expect((await send(loginRequest(stack.url, 'bench-9', PASSWORD, otherClient))).status).toBe(403)
    const mine = await formToken()
    const s = await logIn('bench-9', PASSWORD, mine)
    // a session's API write with the login form's token, not the session's, is refused too
    const wrong = await send(
      issueTokenRequest(stack.url, 'bench-9', { cookie: s.cookie, xsrf: mine }, 'wrong token', 60),
    )
    expect(wrong.status).toBe(403)
    expect((await send(issueTokenRequest(stack.url, 'bench-9', s, 'right token', 60))).status).toBe(201)
  })
})
