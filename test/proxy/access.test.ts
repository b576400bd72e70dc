// The edge proxy's access phase for /user/ and /services/: identity, access, forwarding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { newSessionId, tokenDigest } from '../../control-plane/src/protocol'
import { freePort } from '../../runtime/src/ports'
import { waitFor } from '../../runtime/src/wait'
import { http, startFakeServer, startStack, userRoute, type FakeServer, type Stack } from './harness'

let stack: Stack
let alice: FakeServer
let aliceGpu: FakeServer
let bob: FakeServer
let grader: FakeServer
const now = () => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  stack = await startStack()
  alice = await startFakeServer('alice')
  aliceGpu = await startFakeServer('alice-gpu')
  bob = await startFakeServer('bob')
  grader = await startFakeServer('grader')
  await stack.tables.apply([
    { table: 'routes', key: '/user/alice/', value: userRoute('alice', alice.target, 'alice-secret') },
    { table: 'routes', key: '/user/alice/gpu/', value: userRoute('alice', aliceGpu.target, 'gpu-secret', 'gpu') },
    { table: 'routes', key: '/user/bob/', value: userRoute('bob', bob.target, 'bob-secret') },
    {
      table: 'routes',
      key: '/services/grader/',
      value: { kind: 'service', target: grader.target, user: '', server: '', token: 'grader-secret' },
    },
    { table: 'users', key: 'alice', value: { admin: false } },
    { table: 'users', key: 'root', value: { admin: true } },
    { table: 'settings', key: 'admin_access', value: false },
  ])
  const v = await stack.tables.version()
  await waitFor(
    'proxy synced',
    async () => (await http(`${stack.proxy.url}/_edgehub/proxy/health`)).json().version === v,
  )
})

afterAll(async () => {
  await stack?.stop()
  await Promise.all([alice, aliceGpu, bob, grader].map((s) => s?.close()))
})

const get = (path: string, headers: Record<string, string> = {}) => http(stack.proxy.url + path, { headers })
const asUser = (user: string, path: string, headers: Record<string, string> = {}) =>
  get(path, { cookie: `edgehub-session=${stack.cookie(user)}`, ...headers })

describe('proxy access: routing', () => {
  it('forwards to the route target with Authorization replaced by the server token', async () => {
    const r = await asUser('alice', '/user/alice/lab?x=1', { authorization: 'Basic Zm9vOmJhcg==' })
    expect(r.status).toBe(200)
    const seen = r.json()
    expect(seen.server).toBe('alice')
    expect(seen.url).toBe('/user/alice/lab?x=1')
    expect(seen.headers.authorization).toBe('token alice-secret')
  })

  it('keeps the Host header and the raw URI', async () => {
    const r = await asUser('alice', '/user/alice/files/a%20b.txt?download=1', { host: 'hub.example.org' })
    expect(r.json().url).toBe('/user/alice/files/a%20b.txt?download=1')
    expect(r.json().headers.host).toBe('hub.example.org')
  })

  it('prefers the named server route over the default route (longest prefix)', async () => {
    const r = await asUser('alice', '/user/alice/gpu/api/kernels')
    expect(r.json().server).toBe('alice-gpu')
    expect(r.json().headers.authorization).toBe('token gpu-secret')
    const d = await asUser('alice', '/user/alice/gpux/')
    expect(d.json().server).toBe('alice')
  })

  it('routes /user/NAME without the trailing slash to the server', async () => {
    const r = await asUser('alice', '/user/alice')
    expect(r.json().server).toBe('alice')
  })

  it('redirects a logged-in user without a route to /hub/user/NAME/...', async () => {
    const r = await asUser('carol', '/user/carol/lab?a=b')
    expect(r.status).toBe(302)
    expect(r.headers.location).toBe('/hub/user/carol/lab?a=b')
  })

  it('lets any logged-in user into a service route', async () => {
    const r = await asUser('carol', '/services/grader/submit')
    expect(r.status).toBe(200)
    expect(r.json().server).toBe('grader')
    expect(r.json().headers.authorization).toBe('token grader-secret')
  })
})

describe('proxy access: no credentials', () => {
  it('redirects a browser to /hub/login?next=<escaped uri>', async () => {
    const r = await get('/user/alice/lab/tree?path=a b&x=1', { accept: 'text/html' })
    expect(r.status).toBe(302)
    expect(r.headers.location).toBe(`/hub/login?next=${encodeURIComponent('/user/alice/lab/tree?path=a%20b&x=1')}`)
  })

  it.each([
    ['an Accept: application/json request', '/user/alice/lab', { accept: 'application/json' }],
    ['an /api/ path', '/user/alice/api/contents', {}],
    ['a request with an unknown Authorization token', '/user/alice/lab', { authorization: 'token nope' }],
    ['a WebSocket upgrade', '/user/alice/lab', { upgrade: 'websocket', connection: 'upgrade' }],
  ])('answers 401 JSON to %s', async (_what, path, headers) => {
    const r = await get(path, headers as Record<string, string>)
    expect(r.status).toBe(401)
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.json()).toEqual({ status: 401, message: 'authentication required' })
  })
})

describe("proxy access: someone else's server", () => {
  it('answers 403 with an HTML page naming the logged-in user', async () => {
    const r = await asUser('bob', '/user/alice/lab', { accept: 'text/html' })
    expect(r.status).toBe(403)
    expect(r.headers['content-type']).toContain('text/html')
    expect(r.body).toContain('logged in as <b>bob</b>')
    expect(alice.seen.some((s) => s.headers.cookie?.includes('bob'))).toBe(false)
  })

  it('escapes the user name in the 403 page', async () => {
    const r = await asUser('<script>x</script>', '/user/alice/lab')
    expect(r.status).toBe(403)
    expect(r.body).not.toContain('<script>x')
    expect(r.body).toContain('&lt;script&gt;x')
  })

  it('answers 403 JSON to an API request', async () => {
    const r = await asUser('bob', '/user/alice/api/contents')
    expect(r.status).toBe(403)
    expect(r.json()).toEqual({ status: 403, message: 'forbidden: this server belongs to another user' })
  })

  it('refuses an admin when settings.admin_access is false', async () => {
    const r = await asUser('root', '/user/alice/lab')
    expect(r.status).toBe(403)
  })

  it('lets an admin in when settings.admin_access is true, and not a non-admin', async () => {
    await stack.tables.set('settings', 'admin_access', true)
    try {
      await waitFor('admin access', async () => (await asUser('root', '/user/alice/lab')).status === 200, {
        timeoutMs: 1000,
      })
      const r = await asUser('root', '/user/alice/lab')
      expect(r.json().headers.authorization).toBe('token alice-secret')
      expect((await asUser('bob', '/user/alice/lab')).status).toBe(403)
    } finally {
      await stack.tables.set('settings', 'admin_access', false)
    }
    await waitFor('admin access off', async () => (await asUser('root', '/user/alice/lab')).status === 403, {
      timeoutMs: 1000,
    })
  })
})

describe('proxy access: session cookies', () => {
  const cookieCases: [string, () => string][] = [
    ['forged with another secret', () => stack.cookie('alice', { secret: Buffer.alloc(32, 1).toString('base64url') })],
    [
      'tampered (user changed)',
      () =>
        stack
          .cookie('bob')
          .replace(Buffer.from('bob').toString('base64url'), Buffer.from('alice').toString('base64url')),
    ],
    [
      'tampered (exp extended)',
      () => {
        const parts = stack.cookie('alice', { exp: now() - 10 }).split('.')
        parts[4] = String(now() + 3600)
        return parts.join('.')
      },
    ],
    ['expired', () => stack.cookie('alice', { exp: now() - 1 })],
    ['signed with an unknown key id', () => stack.cookie('alice', { kid: 'nope' })],
    ['malformed', () => 'v1.k1.YWxpY2U.short.123.sig'],
    ['empty', () => ''],
  ]
  it.each(cookieCases)('treats a cookie %s as logged out', async (_what, make) => {
    const r = await get('/user/alice/lab', { cookie: `edgehub-session=${make()}` })
    expect(r.status).toBe(302)
    expect(r.headers.location).toMatch(/^\/hub\/login\?next=/)
  })

  it('logs nobody in with two cookies of the same name, even when one is valid (the hub does the same)', async () => {
    // a cookie a user's page set (another path, another value) cannot shadow or stand beside the hub's
    const r = await get('/user/alice/lab', {
      cookie: `edgehub-session=garbage; edgehub-session=${stack.cookie('alice')}`,
    })
    expect(r.status).toBe(302)
  })

  it('refuses a revoked session within 1 s', async () => {
    const sid = newSessionId()
    const cookie = `edgehub-session=${stack.cookie('alice', { sid })}`
    expect((await get('/user/alice/lab', { cookie })).status).toBe(200)
    await stack.tables.set('revoked', sid, now() + 3600)
    await waitFor('revocation', async () => (await get('/user/alice/lab', { cookie })).status === 302, {
      timeoutMs: 1000,
      intervalMs: 20,
    })
  })

  it('accepts cookies of a new key and stops accepting those of a removed key', async () => {
    const secret2 = Buffer.alloc(32, 9).toString('base64url')
    await stack.tables.set('keys', 'k2', { secret: secret2, created: now() })
    const cookie = `edgehub-session=${stack.cookie('alice', { kid: 'k2', secret: secret2 })}`
    await waitFor('new key', async () => (await get('/user/alice/lab', { cookie })).status === 200, { timeoutMs: 1000 })
    await stack.tables.del('keys', 'k2')
    await waitFor('key removed', async () => (await get('/user/alice/lab', { cookie })).status === 302, {
      timeoutMs: 1000,
    })
  })
})

describe('proxy access: API tokens', () => {
  it.each(['token', 'Bearer', 'bearer'])('accepts Authorization: %s <token>', async (scheme) => {
    const token = `tok-${scheme}-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(token), { user: 'alice', expires_at: 0 })
    await waitFor(
      'token',
      async () => (await get('/user/alice/api/status', { authorization: `${scheme} ${token}` })).status === 200,
      {
        timeoutMs: 1000,
      },
    )
    const r = await get('/user/alice/api/status', { authorization: `${scheme} ${token}` })
    expect(r.json().headers.authorization).toBe('token alice-secret')
  })

  it('stops accepting a token within 1 s of its deletion', async () => {
    const token = `tok-${newSessionId()}`
    const digest = tokenDigest(token)
    await stack.tables.set('tokens', digest, { user: 'alice', expires_at: now() + 3600 })
    const auth = { authorization: `token ${token}` }
    await waitFor('token', async () => (await get('/user/alice/api/x', auth)).status === 200, { timeoutMs: 1000 })
    await stack.tables.del('tokens', digest)
    await waitFor('token revoked', async () => (await get('/user/alice/api/x', auth)).status === 401, {
      timeoutMs: 1000,
      intervalMs: 20,
    })
  })

  it('refuses an expired token', async () => {
    const token = `tok-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(token), { user: 'alice', expires_at: now() - 1 })
    const good = `tok-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(good), { user: 'alice', expires_at: 0 })
    await waitFor(
      'sync',
      async () => (await get('/user/alice/api/x', { authorization: `token ${good}` })).status === 200,
    )
    expect((await get('/user/alice/api/x', { authorization: `token ${token}` })).status).toBe(401)
  })

  it('refuses a token of another user with 403', async () => {
    const token = `tok-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(token), { user: 'bob', expires_at: 0 })
    await waitFor(
      'sync',
      async () => (await get('/user/bob/api/x', { authorization: `token ${token}` })).status === 200,
    )
    expect((await get('/user/alice/api/x', { authorization: `token ${token}` })).status).toBe(403)
  })
})

describe('proxy access: headers sent upstream', () => {
  it('strips client-supplied identity headers', async () => {
    const r = await asUser('alice', '/user/alice/', {
      'x-edgehub-user': 'root',
      'x-edgehub-admin': '1',
      'x-forwarded-user': 'root',
      'x-remote-user': 'root',
      'remote-user': 'root',
    })
    const h = r.json().headers
    for (const name of ['x-edgehub-user', 'x-edgehub-admin', 'x-forwarded-user', 'x-remote-user', 'remote-user']) {
      expect(h[name]).toBeUndefined()
    }
  })

  it('removes edgehub-session and edgehub-xsrf from the Cookie header and keeps other cookies', async () => {
    const r = await get('/user/alice/', {
      cookie: `_xsrf=abc; edgehub-session=${stack.cookie('alice')}; edgehub-xsrf=q; theme=dark`,
    })
    expect(r.json().headers.cookie).toBe('_xsrf=abc; theme=dark')
  })

  it('sends no Cookie header when only edgehub cookies were sent', async () => {
    const r = await asUser('alice', '/user/alice/')
    expect(r.json().headers.cookie).toBeUndefined()
  })

  it('passes a Cookie header without hub cookies unchanged (a token client)', async () => {
    const token = `tok-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(token), { user: 'alice', expires_at: 0 })
    await waitFor('sync', async () => (await get('/user/alice/x', { authorization: `token ${token}` })).status === 200)
    const r = await get('/user/alice/x', { authorization: `token ${token}`, cookie: '_xsrf=abc; theme=dark' })
    expect(r.json().headers.cookie).toBe('_xsrf=abc; theme=dark')
    expect(r.json().headers.authorization).toBe('token alice-secret')
  })

  it("passes the client's own Authorization to a route without a token", async () => {
    await stack.tables.set('routes', '/services/open/', {
      kind: 'service',
      target: grader.target,
      user: '',
      server: '',
    })
    await waitFor('route', async () => (await asUser('alice', '/services/open/')).status === 200)
    const r = await asUser('alice', '/services/open/x', { authorization: 'Basic Zm9vOmJhcg==' })
    expect(r.json().headers.authorization).toBe('Basic Zm9vOmJhcg==')
    expect(r.json().headers.cookie).toBeUndefined()
  })

  it('sets X-Forwarded-For, -Proto and -Host, replacing what a client that is not a trusted front proxy sent', async () => {
    // proxy.trustedProxies is empty here; test/e2e/security/edge-forwarded.test.ts has a trusted one
    const r = await asUser('alice', '/user/alice/', {
      host: 'hub.example.org:8443',
      'x-forwarded-for': '10.1.2.3',
      'x-forwarded-proto': 'https',
    })
    const h = r.json().headers
    expect(h['x-forwarded-for']).toBe('127.0.0.1')
    expect(h['x-forwarded-proto']).toBe('http')
    expect(h['x-forwarded-host']).toBe('hub.example.org:8443')
  })

  it('generates an X-Request-Id when absent, upstream and in the response', async () => {
    const r = await asUser('alice', '/user/alice/')
    const id = r.json().headers['x-request-id']
    expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(r.headers['x-request-id']).toBe(id)
  })

  it('keeps a sane X-Request-Id and replaces one that is not', async () => {
    const kept = await asUser('alice', '/user/alice/', { 'x-request-id': 'lb-1234.abc' })
    expect(kept.json().headers['x-request-id']).toBe('lb-1234.abc')
    const replaced = await asUser('alice', '/user/alice/', { 'x-request-id': 'bad id "with" spaces' })
    expect(replaced.json().headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/)
  })

  it('puts the X-Request-Id on refusals too', async () => {
    const r = await get('/user/alice/api/x', { 'x-request-id': 'req-42' })
    expect(r.status).toBe(401)
    expect(r.headers['x-request-id']).toBe('req-42')
  })
})

describe('proxy access: WebSockets', () => {
  it('proxies a WebSocket echo with the server token', async () => {
    const url = `${stack.proxy.url.replace('http:', 'ws:')}/user/alice/api/kernels/k1/channels`
    const ws = new WebSocket(url, { headers: { cookie: `edgehub-session=${stack.cookie('alice')}` } })
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'))
      ws.on('message', (d) => resolve(d.toString()))
      ws.on('error', reject)
    })
    ws.close()
    expect(reply).toBe('alice:hello')
    const up = alice.seen.filter((s) => s.method === 'WS').at(-1)!
    expect(up.url).toBe('/user/alice/api/kernels/k1/channels')
    expect(up.headers.authorization).toBe('token alice-secret')
  })

  it('refuses a WebSocket without credentials with 401', async () => {
    const url = `${stack.proxy.url.replace('http:', 'ws:')}/user/alice/api/kernels/k1/channels`
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url)
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('open', () => resolve(101))
      ws.on('error', () => resolve(-1))
    })
    expect(status).toBe(401)
  })
})

describe('proxy access: unreachable servers and bad requests', () => {
  it('answers a 502 page when the server refuses connections', async () => {
    const port = await freePort()
    await stack.tables.set('routes', '/user/dave/', userRoute('dave', `127.0.0.1:${port}`, 's'))
    await waitFor('route', async () => (await asUser('dave', '/user/dave/lab')).status !== 302, { timeoutMs: 1000 })
    const r = await asUser('dave', '/user/dave/lab', { accept: 'text/html' })
    expect(r.status).toBe(502)
    expect(r.headers['content-type']).toContain('text/html')
    expect(r.body).toContain('<code>/user/dave/</code> is not responding')
    const j = await asUser('dave', '/user/dave/api/status')
    expect(j.status).toBe(502)
    expect(j.json()).toEqual({ status: 502, message: 'the server is not responding' })
    // a token client is an API client, whatever it accepts (the route's token never counts)
    const token = `tok-${newSessionId()}`
    await stack.tables.set('tokens', tokenDigest(token), { user: 'dave', expires_at: 0 })
    await waitFor(
      'token',
      async () => (await get('/user/dave/lab', { authorization: `token ${token}` })).status === 502,
    )
    const t = await get('/user/dave/lab', { authorization: `token ${token}`, accept: 'text/html' })
    expect(t.status).toBe(502)
    expect(t.json()).toEqual({ status: 502, message: 'the server is not responding' })
  })

  it('answers 502 for a route whose entry is not valid', async () => {
    await stack.tables.set('routes', '/user/erin/', '{"kind":"user","target":"nowhere"')
    await waitFor('bad route', async () => (await asUser('erin', '/user/erin/')).status === 502, { timeoutMs: 1000 })
  })

  it('answers 400 or 431 to oversized headers and keeps serving', async () => {
    const r = await get('/user/alice/', { 'x-big': 'a'.repeat(64 * 1024) })
    expect([400, 431, 494]).toContain(r.status)
    expect((await asUser('alice', '/user/alice/')).status).toBe(200)
  })
})
