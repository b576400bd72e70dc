// The control plane in-process (app.request) against a real Redis: pages, login, XSRF, sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from './app'
import { buildDeps, type Deps } from './deps'
import { loadConfig } from './config/load'
import { createLogger } from '../../runtime/src/log'
import { testRedis } from '../../test/support/redis'
import { Client, json } from '../../test/support/client'

let redis: Awaited<ReturnType<typeof testRedis>>
let deps: Deps
let app: ReturnType<typeof buildApp>
const dataDir = mkdtempSync(join(tmpdir(), 'edgehub-app-'))
const client = () => new Client('http://hub.test', (url, init) => app.request(url, init))

beforeAll(async () => {
  redis = await testRedis()
  const { config } = loadConfig({
    env: {
      EDGEHUB_REDIS_URL: redis.url,
      EDGEHUB_DATA_DIR: dataDir,
      EDGEHUB_AUTH_NATIVE_SCRYPT_COST: '16384',
      EDGEHUB_AUTH_NATIVE_ALLOW_SIGNUP: 'true',
      EDGEHUB_AUTH_ADMINS: 'root',
    },
  })
  deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }) })
  app = buildApp(deps)
  await deps.users.create('alice', { passwordHash: await deps.passwords!.hash('alice-password') })
  await deps.users.create('root', { admin: true, passwordHash: await deps.passwords!.hash('root-password') })
})
afterAll(async () => {
  await deps?.close()
  await redis?.stop()
  rmSync(dataDir, { recursive: true, force: true })
})

describe('response headers', () => {
  it("every answer carries X-Request-Id (the caller's when sane) and API answers X-JupyterHub-Version", async () => {
    const cases: Array<[string, number, boolean]> = [
      ['/hub/api/', 200, true],
      ['/hub/api/nope', 404, true],
      ['/hub/api/users', 403, true],
      ['/hub/login', 200, false],
      ['/hub/home', 302, false],
    ]
    for (const [path, status, api] of cases) {
      const res = await app.request(`http://hub.test${path}`, {
        headers: { 'x-request-id': 'rid-1' },
        redirect: 'manual',
      })
      expect(res.status, path).toBe(status)
      expect(res.headers.get('x-request-id'), path).toBe('rid-1') // once ("rid-1, rid-1" if set twice)
      expect(res.headers.get('x-jupyterhub-version'), path).toBe(api ? '6.0.0' : null)
    }
    const own = await app.request('http://hub.test/hub/api/', { headers: { 'x-request-id': 'not sane!' } })
    expect(own.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}$/)
  })
})

describe('POST /hub/login', () => {
  it('sets an HttpOnly SameSite=Lax session cookie and redirects to next', async () => {
    const c = client()
    await c.get('/hub/login')
    const res = await c.postForm('/hub/login?next=%2Fuser%2Falice%2Flab', {
      username: 'Alice',
      password: 'alice-password',
    })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/user/alice/lab')
    const sc = res.headers.getSetCookie().find((s) => s.startsWith('edgehub-session='))!
    expect(sc).toMatch(/HttpOnly/)
    expect(sc).toMatch(/SameSite=Lax/)
    expect(sc).not.toMatch(/Secure/)
    const me = await (await c.api('GET', '/user')).json()
    expect(me).toMatchObject({ kind: 'user', name: 'alice', admin: false })
  })

  it('does not redirect off-site', async () => {
    const c = client()
    const res = await c.postForm('/hub/login?next=//evil.example/x', { username: 'alice', password: 'alice-password' })
    expect(res.headers.get('location')).toBe('/hub/')
  })

  it('answers a wrong password and an unknown user with the same message and similar time', async () => {
    const attempt = async (username: string) => {
      const c = client()
      await c.get('/hub/login')
      const t = performance.now()
      const res = await c.postForm('/hub/login', { username, password: 'wrong-password' })
      const ms = performance.now() - t
      return { status: res.status, text: await res.text(), ms, cookie: c.jar.has('edgehub-session') }
    }
    await attempt('nobody') // warm the decoy hash
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 5; i++) {
      const a = await attempt('alice')
      const b = await attempt(`nobody${i}`)
      expect(a.status).toBe(403)
      expect(b.status).toBe(403)
      expect(a.text).toContain('Invalid user name or password.')
      expect(b.text).toContain('Invalid user name or password.')
      expect(a.cookie || b.cookie).toBe(false)
      known.push(a.ms)
      unknown.push(b.ms)
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]
    const ratio = median(known) / median(unknown)
    expect(ratio).toBeGreaterThan(0.5)
    expect(ratio).toBeLessThan(2)
    expect(await deps.users.get('nobody0')).toBeUndefined()
  })

  it('explains an invalid user name and creates nothing', async () => {
    const c = client()
    const res = await c.postForm('/hub/login', { username: 'a/b', password: 'x' })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Invalid user name: the name contains &quot;/&quot;')
    expect(await deps.users.names()).toEqual(['alice', 'root'])
  })

  it('refuses a form without the XSRF field', async () => {
    const c = client()
    await c.get('/hub/login')
    const res = await c.request('/hub/login', {
      method: 'POST',
      body: new URLSearchParams({ username: 'alice', password: 'alice-password' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('XSRF check failed')
    expect(c.jar.has('edgehub-session')).toBe(false)
  })
})

describe('sessions', () => {
  it('logout revokes the session for the hub and the proxies', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const cookie = c.jar.get('edgehub-session')!
    const sid = cookie.split('.')[3]
    expect((await c.api('GET', '/user')).status).toBe(200)
    const res = await c.get('/hub/logout')
    expect(res.headers.get('location')).toBe('/hub/login?logged_out=1')
    const replay = new Client('http://hub.test', (url, init) => app.request(url, init))
    replay.jar.set('edgehub-session', cookie)
    expect((await replay.api('GET', '/user')).status).toBe(403)
    expect(await deps.tables.get('revoked', sid)).toBeGreaterThan(Date.now() / 1000)
  })

  it('treats a tampered cookie as logged out', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const parts = c.jar.get('edgehub-session')!.split('.')
    parts[2] = Buffer.from('root').toString('base64url')
    c.jar.set('edgehub-session', parts.join('.'))
    const res = await c.get('/hub/home')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/login?next=%2Fhub%2Fhome')
  })

  it('keeps accepting cookies signed with the previous key after a rotation', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    await deps.cookieKeys.rotate()
    expect((await c.api('GET', '/user')).status).toBe(200)
    const fresh = client()
    await fresh.login('alice', 'alice-password')
    expect(fresh.jar.get('edgehub-session')!.split('.')[1]).not.toBe(c.jar.get('edgehub-session')!.split('.')[1])
  })
})

describe('API authentication', () => {
  it('accepts an API token and needs no XSRF header with it', async () => {
    const { token } = await deps.tokens.issue('alice')
    const res = await app.request('/hub/api/user', { headers: { authorization: `token ${token}` } })
    expect(res.status).toBe(200)
    expect((await json(res)).name).toBe('alice')
    const bearer = await app.request('/hub/api/users/alice/activity', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ last_activity: new Date().toISOString() }),
    })
    expect(bearer.status).toBe(200)
  })

  it('refuses a cookie-authenticated API write without X-XSRFToken', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const res = await c.request('/hub/api/users/alice/server', { method: 'POST' })
    expect(res.status).toBe(403)
    expect(await json(res)).toEqual({ status: 403, message: 'XSRF check failed: reload the page and try again' })
  })

  it("answers 403 JSON without credentials and 404 for another user's model (as JupyterHub)", async () => {
    expect(await json(await app.request('/hub/api/user'))).toEqual({
      status: 403,
      message: 'Missing or invalid credentials.',
    })
    const { token } = await deps.tokens.issue('alice')
    const res = await app.request('/hub/api/users/root', { headers: { authorization: `token ${token}` } })
    expect(await json(res)).toEqual({ status: 404, message: 'No access to resources or resources not found' })
  })

  it('stops accepting a revoked token', async () => {
    const { token, record } = await deps.tokens.issue('alice')
    await deps.tokens.revoke(record.id)
    expect((await app.request('/hub/api/user', { headers: { authorization: `token ${token}` } })).status).toBe(403)
  })
})

describe('sign-up and approval', () => {
  it('creates an account that cannot log in until an admin approves it', async () => {
    const c = client()
    await c.get('/hub/signup')
    const res = await c.postForm('/hub/signup', { username: 'Newbie', password: 'newbie-password' })
    expect(await res.text()).toContain('An administrator must approve it')
    const attempt = await c.postForm('/hub/login', { username: 'newbie', password: 'newbie-password' })
    expect(attempt.status).toBe(403)
    expect(await attempt.text()).toContain('waiting for an administrator')
    const admin = client()
    await admin.login('root', 'root-password')
    const approve = await admin.postForm('/hub/admin/approve/newbie', {})
    expect(approve.status).toBe(302)
    const ok = await c.postForm('/hub/login', { username: 'newbie', password: 'newbie-password' })
    expect(ok.status).toBe(302)
  })

  it('refuses a short password with the rule in the message', async () => {
    const c = client()
    const res = await c.postForm('/hub/signup', { username: 'shorty', password: 'x' })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('at least 8 characters')
    expect(await deps.users.get('shorty')).toBeUndefined()
  })

  it('lets a non-admin not approve anyone', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    expect((await c.postForm('/hub/admin/approve/alice', {})).status).toBe(403)
  })
})

describe('change password', () => {
  it('needs the current password', async () => {
    await deps.users.create('carol', { passwordHash: await deps.passwords!.hash('carol-password') })
    const c = client()
    await c.login('carol', 'carol-password')
    const bad = await c.postForm('/hub/change-password', { old_password: 'nope', new_password: 'carol-new-password' })
    expect(bad.status).toBe(400)
    const elsewhere = client()
    await elsewhere.login('carol', 'carol-password')
    const good = await c.postForm('/hub/change-password', {
      old_password: 'carol-password',
      new_password: 'carol-new-password',
    })
    expect(await good.text()).toContain('Your password was changed.')
    expect((await c.api('GET', '/user')).status).toBe(200)
    expect((await elsewhere.api('GET', '/user')).status).toBe(403)
    expect((await client().login('carol', 'carol-new-password')).status).toBe(302)
  })
})

describe('error pages', () => {
  it('sends an anonymous visitor of a hub page to the login page', async () => {
    const res = await app.request('/hub/nowhere')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/login?next=%2Fhub%2Fnowhere')
  })

  it('renders a readable 404 page for a logged-in user', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const res = await c.get('/hub/nowhere')
    expect(res.status).toBe(404)
    const html = await res.text()
    expect(html).toContain('404 · Not found')
    expect(html).toContain('There is nothing at /hub/nowhere.')
  })

  it("renders a 403 page when a user opens another user's server page", async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const res = await c.get('/hub/user/root/tree')
    expect(res.status).toBe(403)
    expect(await res.text()).toContain('You are logged in as alice and may not use root&#39;s server.')
  })

  it('answers GET /hub/api with the version, with or without the trailing slash', async () => {
    for (const path of ['/hub/api', '/hub/api/']) {
      const res = await app.request(path)
      // the JupyterHub API version clients choose features by (the idle culler's state filter: >= 1.3)
      expect(res.headers.get('x-jupyterhub-version')).toBe('6.0.0')
      expect(await json(res)).toEqual({ version: '6.0.0' })
    }
  })

  it('answers /hub/health', async () => {
    expect(await json(await app.request('/hub/health'))).toMatchObject({ status: 'ok' })
  })
})

describe('user administration API (admin)', () => {
  const call = async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.request(`/hub/api${path}`, {
      method,
      headers: { authorization: `token ${token}`, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  let admin: string
  let user: string
  beforeAll(async () => {
    admin = (await deps.tokens.issue('root')).token
    user = (await deps.tokens.issue('alice')).token
  })

  it('creates a user, refuses a second one of that name and bad bodies without changing anything', async () => {
    const res = await call(admin, 'POST', '/users/made-by-api', { admin: false })
    expect(res.status).toBe(201)
    expect(await json(res)).toMatchObject({ kind: 'user', name: 'made-by-api', admin: false, servers: {} })
    expect((await call(admin, 'POST', '/users/made-by-api')).status).toBe(409)
    for (const [body, message] of [
      [{ admin: 'yes' }, /admin must be true or false/],
      [{ adminn: true }, /unknown field: adminn/],
      [[1], /JSON object/],
    ] as const) {
      const r = await call(admin, 'POST', '/users/other', body)
      expect(r.status).toBe(400)
      expect((await json(r)).message).toMatch(message)
    }
    expect((await call(admin, 'POST', '/users/Upper')).status).toBe(400)
    expect(await deps.users.get('other')).toBeUndefined()
    expect((await call(user, 'POST', '/users/sneaky')).status).toBe(403)
  })

  it('lists users with offset/limit, the pagination envelope and a state filter', async () => {
    for (const n of ['pa', 'pb', 'pc']) await deps.users.create(n).catch(() => {})
    const total = await deps.users.count()
    const plain = await json(await call(admin, 'GET', '/users?offset=1&limit=2'))
    expect(plain).toHaveLength(2)
    const env = await json(
      await call(admin, 'GET', '/users?limit=2', undefined, { accept: 'application/jupyterhub-pagination+json' }),
    )
    expect(env._pagination).toEqual({
      offset: 0,
      limit: 2,
      total,
      next: { offset: 2, limit: 2, url: expect.stringMatching(/^http:\/\/[^/]+\/hub\/api\/users\?limit=2&offset=2$/) },
    })
    expect(env.items.map((u: { name: string }) => u.name)).toEqual((await deps.users.names()).slice(0, 2))
    const inactive = await json(await call(admin, 'GET', '/users?state=inactive&limit=200'))
    expect(inactive.length).toBe(total)
    expect(await json(await call(admin, 'GET', '/users?state=ready'))).toEqual([])
    expect((await call(admin, 'GET', '/users?state=sleeping')).status).toBe(400)
    expect((await json(await call(admin, 'GET', '/users?limit=0'))).length).toBe(1) // clamped, as JupyterHub
    expect((await call(user, 'GET', '/users')).status).toBe(403)
  })

  it('deletes a user with their sessions and tokens, but not oneself', async () => {
    await deps.users.create('leaving')
    const { token } = await deps.tokens.issue('leaving')
    await deps.sessions.create('leaving')
    expect((await call(admin, 'DELETE', '/users/leaving')).status).toBe(204)
    expect(await deps.users.get('leaving')).toBeUndefined()
    expect(await deps.tokens.verify(token)).toBeUndefined()
    expect(await deps.redis.scard(deps.keys.userSessions('leaving'))).toBe(0)
    expect((await call(admin, 'DELETE', '/users/leaving')).status).toBe(404)
    expect((await call(admin, 'DELETE', '/users/root')).status).toBe(400)
  })

  it('answers /info to admins', async () => {
    expect(await json(await call(admin, 'GET', '/info'))).toMatchObject({
      version: expect.any(String),
      spawner: { class: 'local-process' },
    })
    expect((await call(user, 'GET', '/info')).status).toBe(403)
  })
})

describe('the token page', () => {
  it('issues a token with the scopes asked for, shows it once, and revokes it', async () => {
    const c = client()
    await c.login('alice', 'alice-password')
    const page = await c.get('/hub/token')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Request new API token')
    const res = await c.postForm('/hub/token', {
      note: 'from the page',
      expires_in: '3600',
      scopes: 'read:users!user=alice',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store') // the new token is on the page
    const token = (await res.text()).match(/<code id="new-token">([^<]+)<\/code>/)![1]
    const rec = await deps.tokens.verify(token)
    expect(rec).toMatchObject({ note: 'from the page', scopes: ['read:users!user=alice'] })
    expect((await app.request('/hub/api/users/alice', { headers: { authorization: `token ${token}` } })).status).toBe(
      200,
    )
    expect(
      (await app.request('/hub/api/users/alice/tokens', { headers: { authorization: `token ${token}` } })).status,
    ).toBe(403)
    // more than alice holds, or nonsense: refused with a message, nothing issued
    const before = (await deps.tokens.list('alice')).length
    const beyond = await c.postForm('/hub/token', { note: 'x', expires_in: '', scopes: 'admin:users' })
    expect(beyond.status).toBe(403)
    expect(await beyond.text()).toContain('You do not hold admin:users')
    expect((await c.postForm('/hub/token', { note: 'x', expires_in: '', scopes: 'read:everything' })).status).toBe(400)
    expect((await deps.tokens.list('alice')).length).toBe(before)
    const revoked = await c.postForm(`/hub/token/${rec!.id}/revoke`, {})
    expect(revoked.status).toBe(303)
    expect(await deps.tokens.verify(token)).toBeUndefined()
    // someone else's token id: not found
    const rootToken = (await deps.tokens.issue('root')).record
    expect((await c.postForm(`/hub/token/${rootToken.id}/revoke`, {})).status).toBe(404)
  })
})

describe('POST /hub/api/shutdown', () => {
  it('answers 202 and asks the process to shut down (with or without the servers)', async () => {
    const calls: boolean[] = []
    const withShutdown = buildApp(deps, { shutdown: (servers) => calls.push(servers) })
    const root = (await deps.tokens.issue('root')).token
    const res = await withShutdown.request('/hub/api/shutdown', {
      method: 'POST',
      headers: { authorization: `token ${root}`, 'content-type': 'application/json' },
      body: JSON.stringify({ servers: true }),
    })
    expect(res.status).toBe(202)
    expect(await json(res)).toEqual({ message: 'Shutting down Hub' })
    await new Promise<void>((resolve) => {
      const t = setInterval(() => calls.length && (clearInterval(t), resolve()), 10)
    })
    expect(calls).toEqual([true])
  })
})
