// The edge proxy standing in for a server's own CSRF and Origin checks (it presents the server's
// token, so the server checks nothing): real Redis and nginx, recording servers as upstreams.
// Also: one session cookie or none, and ?token= never forwarded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { tokenDigest } from '../../../control-plane/src/protocol'
import { waitFor } from '../../../runtime/src/wait'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from '../../proxy/harness'

let stack: Stack
let alice: FakeServer
let own: string // the proxy's origin, as a browser at its URL names it
const PUBLIC = 'https://hub.example.org'
const BOB_TOKEN = 'bob-token-0123456789abcdef'
const ALICE_TOKEN = 'alice-token-0123456789abcdef'

beforeAll(async () => {
  alice = await startFakeServer('alice')
  stack = await startStack({ proxy: { publicUrl: `${PUBLIC}/` } })
  own = stack.proxy.url.replace(/\/$/, '')
  await stack.tables.apply([
    { table: 'routes', key: '/user/alice/', value: userRoute('alice', alice.target, 'alice-server-secret') },
    { table: 'users', key: 'alice', value: { admin: false } },
    { table: 'users', key: 'bob', value: { admin: false } },
    // alice shared her server with bob
    { table: 'access', key: 'bob', value: { grants: { server: ['alice/'] } } },
    { table: 'tokens', key: tokenDigest(BOB_TOKEN), value: { user: 'bob', expires_at: 0 } },
    { table: 'tokens', key: tokenDigest(ALICE_TOKEN), value: { user: 'alice', expires_at: 0 } },
    { table: 'settings', key: 'token_in_query', value: true },
  ])
  const v = await stack.tables.version()
  await waitFor(
    'proxy synced',
    async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json().version === v,
  )
})

afterAll(async () => {
  await stack?.stop()
  await alice?.close()
})

const asAlice = () => ({ cookie: `edgehub-session=${stack.cookie('alice')}` })
const post = (path: string, headers: Record<string, string>) =>
  http(`${own}${path}`, { method: 'POST', headers, body: '{}' })
/** Requests alice's server saw for path, by method. */
const seenAt = (path: string, method = 'POST') =>
  alice.seen.filter((s) => s.method === method && s.url.startsWith(path)).length

describe("cookie-authenticated requests that change something must come from the hub's origin", () => {
  it('refuses a POST with a foreign Origin (JSON under /api/), and it never reaches the server', async () => {
    const path = '/user/alice/api/kernels?evil'
    const r = await post(path, { ...asAlice(), origin: 'http://evil.example' })
    expect(r.status).toBe(403)
    expect(r.headers['content-type']).toMatch(/application\/json/)
    expect(r.json()).toEqual({ status: 403, message: expect.stringMatching(/cross-origin request refused/) })
    expect(seenAt(path)).toBe(0)
  })

  it('answers a browser page with a readable page', async () => {
    const r = await post('/user/alice/tree/x', { ...asAlice(), origin: 'http://127.0.0.1:1', accept: 'text/html' })
    expect(r.status).toBe(403)
    expect(r.headers['content-type']).toMatch(/text\/html/)
    expect(r.body).toContain('another site')
  })

  it("passes its own origin, publicUrl's origin, Sec-Fetch-Site same-origin, and a same-origin Referer", async () => {
    const cases: Record<string, string>[] = [
      { origin: own },
      { origin: own.toUpperCase().replace('HTTP://', 'http://') },
      { origin: PUBLIC },
      { 'sec-fetch-site': 'same-origin' },
      { referer: `${own}/user/alice/lab` },
    ]
    for (const [i, h] of cases.entries()) {
      const path = `/user/alice/api/kernels?ok=${i}`
      const r = await post(path, { ...asAlice(), ...h })
      expect(r.status, JSON.stringify(h)).toBe(200)
      expect(seenAt(path)).toBe(1)
    }
  })

  it('refuses another port of the same host, another scheme, null, and cross-site or same-site fetches', async () => {
    const port = Number(new URL(own).port)
    const cases: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${port + 1}` },
      { origin: own.replace('http:', 'https:') },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { referer: `http://localhost:${port}/` },
    ]
    for (const h of cases) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const r = await http(`${own}/user/alice/api/contents/x`, { method, headers: { ...asAlice(), ...h } })
        expect(r.status, `${method} ${JSON.stringify(h)}`).toBe(403)
      }
    }
  })

  it('lets safe methods through with a foreign Origin (they change nothing)', async () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const r = await http(`${own}/user/alice/api/kernels`, {
        method,
        headers: { ...asAlice(), origin: 'http://evil.example' },
      })
      expect(r.status, method).toBe(200)
    }
  })

  it('lets a cookie client that sends no Origin, Sec-Fetch-Site or Referer through (not a browser)', async () => {
    const path = '/user/alice/api/kernels?bare'
    expect((await post(path, asAlice())).status).toBe(200)
    expect(seenAt(path)).toBe(1)
  })

  it('exempts token-authenticated requests', async () => {
    const path = '/user/alice/api/kernels?token-auth'
    const r = await post(path, {
      authorization: `token ${ALICE_TOKEN}`,
      origin: 'http://evil.example',
      'sec-fetch-site': 'cross-site',
    })
    expect(r.status).toBe(200)
    expect(seenAt(path)).toBe(1)
  })

  it('refuses a WebSocket with a foreign Origin before the server sees it, and opens one with its own', async () => {
    const url = `${own.replace('http', 'ws')}/user/alice/api/kernels/k/channels`
    const foreign = new WebSocket(`${url}?foreign`, { headers: { ...asAlice(), origin: 'http://evil.example' } })
    const status = await new Promise<number>((resolve, reject) => {
      foreign.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      foreign.once('open', () => resolve(101))
      foreign.once('error', reject)
    })
    expect(status).toBe(403)
    expect(seenAt('/user/alice/api/kernels/k/channels?foreign', 'WS')).toBe(0)

    const mine = new WebSocket(`${url}?own`, { headers: { ...asAlice(), origin: own } })
    await new Promise<void>((resolve, reject) => {
      mine.once('open', () => resolve())
      mine.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      mine.once('error', reject)
    })
    const echo = new Promise<string>((resolve) => mine.once('message', (d) => resolve(d.toString())))
    mine.send('hi')
    expect(await echo).toBe('alice:hi')
    mine.close()
  })
})

describe('one session cookie or none', () => {
  it('is not logged in with two session cookies, whichever is valid', async () => {
    const good = stack.cookie('alice')
    for (const cookie of [
      `edgehub-session=garbage; edgehub-session=${good}`,
      `edgehub-session=${good}; edgehub-session=garbage`,
      `edgehub-session=${good}; edgehub-session=${good}`,
    ]) {
      const r = await http(`${own}/user/alice/lab`, { headers: { cookie } })
      expect(r.status, cookie).toBe(302)
      expect(r.headers.location).toMatch(/^\/hub\/login\?next=/)
    }
    expect(
      (await http(`${own}/user/alice/lab`, { headers: { cookie: `theme=dark; edgehub-session=${good}` } })).status,
    ).toBe(200)
  })
})

describe('?token= never reaches a server', () => {
  it("drops bob's token from the URL of alice's shared server when bob is logged in by cookie", async () => {
    const r = await http(`${own}/user/alice/lab?a=1&token=${BOB_TOKEN}&b=%2F`, {
      headers: { cookie: `edgehub-session=${stack.cookie('bob')}` },
    })
    expect(r.status).toBe(200)
    expect(r.json().url).toBe('/user/alice/lab?a=1&b=%2F')
  })

  it('drops it when it logged the request in, and when it logged nobody in, in every spelling', async () => {
    const urls: string[] = []
    for (const [q, headers] of [
      [`token=${BOB_TOKEN}&x=1`, {}], // it is what logs bob in
      [`x=1&TOKEN=${BOB_TOKEN}`, { authorization: `token ${ALICE_TOKEN}` }],
      [`x=1&%74oken=${BOB_TOKEN}`, asAlice()],
      [`Token=not-a-token&x=1`, asAlice()],
    ] as const) {
      const r = await http(`${own}/user/alice/api/x?${q}`, { headers })
      expect(r.status, q).toBe(200)
      urls.push(r.json().url)
    }
    expect(urls).toEqual(Array(4).fill('/user/alice/api/x?x=1'))
    for (const s of alice.seen) expect(s.url).not.toContain(BOB_TOKEN)
  })

  it('keeps a query without a token as sent', async () => {
    const r = await http(`${own}/user/alice/api/x?a=%41&&tokens=1`, { headers: asAlice() })
    expect(r.json().url).toBe('/user/alice/api/x?a=%41&&tokens=1')
  })
})
