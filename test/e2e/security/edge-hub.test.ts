// The hub's side of browser safety, through the real stack (Redis, hub process, nginx proxy): XSRF
// tokens bound to the session, so a tossed edgehub-xsrf cookie is useless; one session cookie or
// none; hub pages framed by the hub's own pages only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { person, rootOf, type Admin } from '../../support/people'

let stack: Stack
let root: Admin
let alice: Admin
let bob: Admin

beforeAll(async () => {
  stack = await startStack({ spawner: { 'local-process': { command: ['true'] } } })
  root = await rootOf(stack)
  ;[alice, bob] = [await person(root, 'alice'), await person(root, 'bob')]
})
afterAll(async () => {
  await stack?.stop()
})

const sessionOf = (p: Admin) => p.client.jar.get('edgehub-session')!
const xsrfOf = (p: Admin) => p.client.jar.get('edgehub-xsrf')!

/** POST /hub/api/users/alice/tokens with alice's session and the given xsrf cookie and header. */
async function mintAsAlice(xsrfCookie: string | undefined, header: string) {
  const cookie = `edgehub-session=${sessionOf(alice)}${xsrfCookie === undefined ? '' : `; edgehub-xsrf=${xsrfCookie}`}`
  const r = await fetch(`${stack.url}/hub/api/users/alice/tokens`, {
    method: 'POST',
    headers: { cookie, 'x-xsrftoken': header, 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'xsrf test' }),
  })
  return { status: r.status, body: await json(r) }
}

describe('XSRF tokens are bound to the session', () => {
  it('takes the token the hub gave this session', async () => {
    expect((await mintAsAlice(xsrfOf(alice), xsrfOf(alice))).status).toBe(201)
    // the cookie is only a way to hand it to scripts: the header alone is enough
    expect((await mintAsAlice(undefined, xsrfOf(alice))).status).toBe(201)
  })

  it("refuses a tossed cookie with a matching header: made up, or another user's real token", async () => {
    for (const tossed of ['A'.repeat(32), xsrfOf(bob), `${xsrfOf(alice).split('.')[0]}.${'A'.repeat(43)}`]) {
      const r = await mintAsAlice(tossed, tossed)
      expect(r.status, tossed).toBe(403)
      expect(r.body.message).toMatch(/XSRF/)
    }
  })

  it('refuses the token of an earlier session of the same user', async () => {
    const before = new Client(stack.url)
    await before.login('alice', alice.password)
    const old = before.jar.get('edgehub-xsrf')!
    expect(old).not.toBe(xsrfOf(alice))
    expect((await mintAsAlice(old, old)).status).toBe(403)
  })

  it('gives a new token at login, set in the login response itself', async () => {
    const c = new Client(stack.url)
    await (await c.get('/hub/login')).text()
    const anonymous = c.jar.get('edgehub-xsrf')
    const res = await c.login('bob', bob.password)
    expect(res.status).toBe(302)
    const after = c.jar.get('edgehub-xsrf')
    expect(after).toBeTruthy()
    expect(after).not.toBe(anonymous)
    expect((await c.api('POST', '/users/bob/tokens', { note: 'fresh login' })).status).toBe(201)
  })

  it("binds the login form to the browser before login: a forged value or another browser's token is refused", async () => {
    const c = new Client(stack.url)
    await (await c.get('/hub/login', { 'user-agent': 'Browser A' })).text()
    const tokenA = c.jar.get('edgehub-xsrf')!
    const login = (ua: string, xsrf: string) =>
      c.request('/hub/login', {
        method: 'POST',
        headers: {
          'user-agent': ua,
          cookie: `edgehub-xsrf=${xsrf}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ _xsrf: xsrf, username: 'bob', password: bob.password }),
      })
    expect((await login('Browser B', tokenA)).status).toBe(403)
    expect((await login('Browser A', 'A'.repeat(32))).status).toBe(403)
    expect((await login('Browser A', tokenA)).status).toBe(302)
  })
})

describe('one session cookie or none, at the hub as at the proxy', () => {
  it('is nobody with two session cookies, whichever is valid', async () => {
    const good = sessionOf(alice)
    const api = (cookie: string) => fetch(`${stack.url}/hub/api/user`, { headers: { cookie } })
    expect((await api(`edgehub-session=${good}`)).status).toBe(200)
    for (const cookie of [
      `edgehub-session=garbage; edgehub-session=${good}`,
      `edgehub-session=${good}; edgehub-session=garbage`,
      `edgehub-session=${good}; edgehub-session=${good}`,
    ]) {
      const r = await api(cookie)
      expect(r.status, cookie).not.toBe(200)
      expect([401, 403]).toContain(r.status)
      const page = await fetch(`${stack.url}/hub/home`, { headers: { cookie }, redirect: 'manual' })
      expect(page.status).toBe(302)
      expect(page.headers.get('location')).toMatch(/^\/hub\/login/)
    }
  })
})

describe("hub pages are framed by the hub's own pages only", () => {
  it("sends frame-ancestors 'self' and X-Frame-Options SAMEORIGIN on pages, error pages, redirects and the API", async () => {
    const answers = [
      await fetch(`${stack.url}/hub/login`),
      await fetch(`${stack.url}/hub/home`, { headers: { cookie: `edgehub-session=${sessionOf(alice)}` } }),
      await fetch(`${stack.url}/hub/no-such-page`),
      await fetch(`${stack.url}/hub/home`, { redirect: 'manual' }),
      await fetch(`${stack.url}/hub/api/user`, { headers: alice.auth }),
    ]
    for (const r of answers) {
      expect(r.headers.get('content-security-policy'), r.url).toBe("frame-ancestors 'self'")
      expect(r.headers.get('x-frame-options'), r.url).toBe('SAMEORIGIN')
      await r.body?.cancel()
    }
  })
})
