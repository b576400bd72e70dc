// Per-user hosts (subdomainHost) through the real stack, with the Host header set by hand (Node does
// not resolve *.localhost; Chromium does, in subdomain-browser.test.ts): where each path is served,
// the hand-off from the hub to a user's host, the host cookie bound to its host and to the session,
// and refused hand-offs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { logIn, person, rootOf, startServer, type Admin } from '../../support/people'
import { http, type Reply } from '../../proxy/harness'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { signHandoff } from '../../../control-plane/src/protocol'
import type { Client } from '../../support/client'

// OK_SERVER (test/support/servers.ts) that also sets cookies at .../cookies: one for its own host,
// one for the parent domain, one named as the proxy's host cookie.
const COOKIE_SERVER = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        if self.path.endswith('/cookies'):
            self.send_header('Set-Cookie', 'own=1; Path=/')
            self.send_header('Set-Cookie', 'tossed=1; Domain=hub.localhost; Path=/')
            self.send_header('Set-Cookie', 'edgehub-host-session=garbage; Path=/user/alice/')
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
`

let stack: Stack
let root: Admin
let alice: Admin
let bob: Admin
let port: number
let hubHost: string
let aliceHost: string
let bobHost: string

beforeAll(async () => {
  port = await freePort()
  hubHost = `hub.localhost:${port}`
  aliceHost = `alice.${hubHost}`
  bobHost = `bob.${hubHost}`
  stack = await startStack({
    port,
    subdomainHost: `http://${hubHost}`,
    spawner: { 'local-process': { command: ['python3', '-c', COOKIE_SERVER], args: ['{ip}', '{port}'] } },
    proxy: { adminAccess: true },
  })
  root = await rootOf(stack)
  ;[alice, bob] = await Promise.all([person(root, 'alice'), person(root, 'bob')])
  await startServer(stack.url, alice.token, 'alice')
  await waitFor(
    "alice's server on her host",
    async () => (await onHost(aliceHost, '/user/alice/', { authorization: `token ${alice.token}` })).status === 200,
    { timeoutMs: 20_000, intervalMs: 50 },
  )
}, 120_000)

afterAll(async () => {
  await stack?.stop()
})

/** A request to the proxy with Host set to host. */
function onHost(host: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return http(`${stack.url}${path}`, { method, headers: { host, ...headers } })
}

/** Set-Cookie lines of a reply. */
const setCookies = (r: Reply) => (r.headers['set-cookie'] ?? []) as string[]

/**
 * The hand-off as a browser goes through it: GET /hub/handoff on the hub's host with the client's hub
 * cookies, then the proxy's /_edgehub/handoff on the user's host. Returns both replies.
 */
async function handOff(client: Client, next: string): Promise<{ hub: Reply; proxy: Reply; cookie?: string }> {
  const hub = await onHost(hubHost, `/hub/handoff?next=${encodeURIComponent(next)}`, { cookie: client.cookieHeader() })
  const to = new URL(hub.headers.location ?? 'http://none.invalid/')
  const proxy = await onHost(to.host, to.pathname + to.search)
  const line = setCookies(proxy).find((c) => c.startsWith('edgehub-host-session='))
  return { hub, proxy, cookie: line?.split(';')[0] }
}

describe('where requests are served', () => {
  it("sends /user/NAME/… on the hub's host (or any other) to NAME's host, same path and query, logged in or not", async () => {
    for (const host of [hubHost, `127.0.0.1:${port}`]) {
      const cases: Record<string, string>[] = [
        {},
        { authorization: `token ${alice.token}` },
        { cookie: alice.client.cookieHeader() },
      ]
      for (const headers of cases) {
        const r = await onHost(host, '/user/alice/tree/x%20y?a=1&b=%2F', headers)
        expect(r.status).toBe(302)
        expect(r.headers.location).toBe(`http://${aliceHost}/user/alice/tree/x%20y?a=1&b=%2F`)
      }
    }
    const odd = await onHost(hubHost, '/user/Caf%C3%A9/')
    expect(odd.headers.location).toMatch(
      new RegExp(`^http://u-caf--[0-9a-f]{7}\\.${hubHost.replace(/\./g, '\\.')}/user/Caf%C3%A9/$`),
    )
  })

  it("serves a user's host only for that user's paths: not the hub, not other users, not services", async () => {
    const auth = { authorization: `token ${alice.token}` }
    expect((await onHost(aliceHost, '/user/alice/', auth)).body).toBe('ok')
    for (const [path, method] of [
      ['/user/bob/', 'GET'],
      ['/services/x/', 'POST'],
      ['/', 'GET'],
      ['/hub/api/users/alice/tokens', 'POST'],
      ['/hub/login', 'POST'],
      ['/favicon.ico', 'GET'],
    ]) {
      const r = await onHost(
        aliceHost,
        path,
        { ...auth, cookie: alice.client.cookieHeader(), 'content-type': 'application/json' },
        method,
      )
      expect(r.status, `${method} ${path}`).toBe(404)
    }
    // hub pages (and services) are never served there: a GET goes to the hub's own host
    for (const path of ['/hub/home', '/hub/api/user', '/hub/token?x=1', '/hub', '/services/x/y?z=1']) {
      const r = await onHost(aliceHost, path, { cookie: alice.client.cookieHeader() })
      expect(r.status, path).toBe(302)
      expect(r.headers.location).toBe(`http://${hubHost}${path}`)
    }
    // a name under ours that is no single label
    expect((await onHost(`a.alice.${hubHost}`, '/user/alice/', auth)).status).toBe(404)
    // the hub's host still serves the hub
    expect((await onHost(hubHost, '/hub/api/user', auth)).status).toBe(200)
  })

  it("hands out server URLs on the users' hosts (API url and server, progress), as JupyterHub does", async () => {
    const m = await json(await fetch(`${stack.url}/hub/api/users/alice`, { headers: alice.auth }))
    expect(m.server).toBe(`http://${aliceHost}/user/alice/`)
    expect(m.servers[''].url).toBe(`http://${aliceHost}/user/alice/`)
    const progress = await (
      await fetch(`${stack.url}/hub/api/users/alice/server/progress`, { headers: alice.auth })
    ).text()
    expect(progress).toContain(`"url":"http://${aliceHost}/user/alice/"`)
    // the pages' redirects to her server: /hub/, JupyterHub's user-redirect
    const cookie = alice.client.cookieHeader()
    expect((await onHost(hubHost, '/hub/', { cookie })).headers.location).toBe(`http://${aliceHost}/user/alice/`)
    expect((await onHost(hubHost, '/hub/user-redirect/tree/a%20b?x=1', { cookie })).headers.location).toBe(
      `http://${aliceHost}/user/alice/tree/a%20b?x=1`,
    )
  })
})

describe("logging in on a user's host", () => {
  it("sends a browser without the host cookie to the hub's hand-off, an API client gets 401; the hub cookie does not count there", async () => {
    const cases: Record<string, string>[] = [{}, { cookie: alice.client.cookieHeader() }]
    for (const headers of cases) {
      const r = await onHost(aliceHost, '/user/alice/tree?x=1', headers)
      expect(r.status).toBe(302)
      expect(r.headers.location).toBe(
        `http://${hubHost}/hub/handoff?next=${encodeURIComponent('/user/alice/tree?x=1')}`,
      )
    }
    const api = await onHost(aliceHost, '/user/alice/api/status', { cookie: alice.client.cookieHeader() })
    expect(api.status).toBe(401)
  })

  it('the hub sends someone logged out to the login page, and back to the hand-off after it', async () => {
    const r = await onHost(hubHost, `/hub/handoff?next=${encodeURIComponent('/user/alice/')}`)
    expect(r.status).toBe(302)
    const login = new URL(r.headers.location!, `http://${hubHost}`)
    expect(login.pathname).toBe('/hub/login')
    expect(login.searchParams.get('next')).toBe(`/hub/handoff?next=${encodeURIComponent('/user/alice/')}`)
  })

  it('the hand-off sets a host-only cookie and goes to next; the cookie opens her server there', async () => {
    const { hub, proxy, cookie } = await handOff(alice.client, '/user/alice/tree?x=1')
    expect(hub.status).toBe(302)
    expect(hub.headers.location).toMatch(
      new RegExp(
        `^http://${aliceHost.replace(/\./g, '\\.')}/_edgehub/handoff\\?t=h1\\.[^&]+&next=%2Fuser%2Falice%2Ftree%3Fx%3D1$`,
      ),
    )
    expect(proxy.status).toBe(302)
    expect(proxy.headers.location).toBe('/user/alice/tree?x=1')
    const line = setCookies(proxy).find((c) => c.startsWith('edgehub-host-session='))!
    expect(line).toMatch(/; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/)
    expect(line).not.toMatch(/domain=/i)
    expect(proxy.headers['referrer-policy']).toBe('no-referrer')
    const r = await onHost(aliceHost, '/user/alice/', { cookie: cookie! })
    expect(r.status).toBe(200)
    expect(r.body).toBe('ok')
  })

  it("refuses alice's host cookie on bob's host", async () => {
    const { cookie } = await handOff(alice.client, '/user/alice/')
    expect((await onHost(aliceHost, '/user/alice/', { cookie: cookie! })).status).toBe(200)
    const r = await onHost(bobHost, '/user/bob/', { cookie: cookie! })
    expect(r.status).toBe(302)
    expect(r.headers.location).toMatch(/\/hub\/handoff\?/)
    // the same value with bob's name in the path on alice's host is no route to bob either
    expect((await onHost(aliceHost, '/user/bob/', { cookie: cookie! })).status).toBe(404)
  })

  it('lets the proxy decide access as before: an admin with adminAccess gets in, bob gets 403', async () => {
    const admin = await handOff(root.client, '/user/alice/')
    expect(admin.proxy.status).toBe(302)
    expect((await onHost(aliceHost, '/user/alice/', { cookie: admin.cookie! })).status).toBe(200)
    const other = await handOff(bob.client, '/user/alice/')
    expect(other.proxy.status).toBe(302)
    expect((await onHost(aliceHost, '/user/alice/', { cookie: other.cookie! })).status).toBe(403)
  })

  it('refuses forged, expired, long-lived, other-host and tampered hand-offs, and a next to another host', async () => {
    const sid = alice.client.jar.get('edgehub-session')!.split('.')[3]
    const { kid, secret } = (await stack.cookieKey())!
    const now = Math.floor(Date.now() / 1000)
    const claims = { kid, user: 'alice', sid, exp: now + 3600, host: aliceHost, until: now + 30 }
    const at = (t: string, next = '/user/alice/') =>
      onHost(aliceHost, `/_edgehub/handoff?t=${t}&next=${encodeURIComponent(next)}`)
    // the control: one signed here as the hub signs it passes
    expect((await at(signHandoff(claims, secret))).status).toBe(302)
    const refused: Array<[string, string]> = [
      ['expired', signHandoff({ ...claims, until: now - 1 }, secret)],
      ['valid for an hour', signHandoff({ ...claims, until: now + 3600 }, secret)],
      ["for bob's host", signHandoff({ ...claims, host: bobHost }, secret)],
      ['another key', signHandoff(claims, Buffer.alloc(32, 9).toString('base64url'))],
      ['tampered', signHandoff(claims, secret).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
      ['garbage', 'h1.x.y'],
    ]
    for (const [what, t] of refused) {
      const r = await at(t)
      expect(r.status, what).toBe(400)
      expect(setCookies(r), what).toEqual([])
    }
    for (const next of ['//evil.example/', 'http://evil.example/', '/\\evil.example']) {
      expect((await at(signHandoff(claims, secret), next)).status, next).toBe(400)
    }
    // bob's real hand-off (his host) presented on alice's host
    const hub = await onHost(hubHost, `/hub/handoff?next=${encodeURIComponent('/user/bob/')}`, {
      cookie: bob.client.cookieHeader(),
    })
    const to = new URL(hub.headers.location!)
    expect(to.host).toBe(bobHost)
    expect((await onHost(aliceHost, to.pathname + to.search)).status).toBe(400)
    // the hub's host has no hand-off location
    expect((await onHost(hubHost, `/_edgehub/handoff?t=${signHandoff(claims, secret)}&next=/`)).status).toBe(404)
  })

  it('logging out at the hub ends the host cookie', async () => {
    const client = await logIn(stack.url, 'alice', alice.password)
    const { cookie } = await handOff(client, '/user/alice/')
    expect((await onHost(aliceHost, '/user/alice/', { cookie: cookie! })).status).toBe(200)
    // her server's own Logout goes to the hub's logout, on the hub's host
    const out = await onHost(aliceHost, '/user/alice/logout', { cookie: cookie! })
    expect(out.headers.location).toBe(`http://${hubHost}/hub/logout`)
    await (await client.get('/hub/logout')).text()
    await waitFor(
      'the logout to reach the proxy',
      async () => (await onHost(aliceHost, '/user/alice/', { cookie: cookie! })).status === 302,
      { timeoutMs: 5000, intervalMs: 20 },
    )
    // her other session (alice.client) still works
    expect((await handOff(alice.client, '/user/alice/')).proxy.status).toBe(302)
  })

  it("drops a server's cookies for the parent domain or of the hub's names, keeps its own", async () => {
    const r = await onHost(aliceHost, '/user/alice/cookies', { authorization: `token ${alice.token}` })
    expect(r.status).toBe(200)
    expect(setCookies(r)).toEqual(['own=1; Path=/'])
  })

  it("on a user's host, only that host is the origin of a cookie-authenticated write", async () => {
    const { cookie } = await handOff(alice.client, '/user/alice/')
    const post = (origin: string) =>
      onHost(
        aliceHost,
        '/user/alice/api/contents',
        { cookie: cookie!, origin, 'content-type': 'application/json' },
        'POST',
      )
    const fromHub = await post(`http://${hubHost}`)
    expect(fromHub.status).toBe(403)
    expect(fromHub.json().message).toMatch(/cross-origin/)
    expect((await post(`http://${bobHost}`)).status).toBe(403)
    // from her own host it reaches the server (which answers POST with 501: it only knows GET)
    expect((await post(`http://${aliceHost}`)).status).toBe(501)
  })
})
