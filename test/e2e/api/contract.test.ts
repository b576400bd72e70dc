// The REST API contract through the proxy with two hub replicas: every endpoint's status codes,
// model fields as JupyterHub documents them, pagination, errors as {status, message}, and bad input
// (unknown fields, wrong types, oversize bodies, bad names, traversal) answered 400/413 with nothing
// changed. Scope-by-scope checks are in scopes.test.ts, services in services.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { okServerSpawner } from '../../support/servers'
import { ownToken, person, rootOf, type Admin } from '../../support/people'

const PAGE = 'application/jupyterhub-pagination+json'

let c: Cluster
let root: string
let alice: string
let admin: Admin // root: the first admin, made with the CLI
let aliceAtHub: Admin // alice, added by root on the admin page and logged in

type Init = { method?: string; body?: unknown; token?: string; accept?: string; raw?: string }
const call = (path: string, o: Init = {}) =>
  fetch(`${c.url}/hub/api${path}`, {
    method: o.method ?? 'GET',
    headers: {
      authorization: `token ${o.token ?? root}`,
      'content-type': 'application/json',
      ...(o.accept ? { accept: o.accept } : {}),
    },
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  })
const status = async (path: string, o: Init = {}) => {
  const r = await call(path, o)
  await r.body?.cancel()
  return r.status
}

beforeAll(async () => {
  c = await startCluster({
    hubs: 2,
    proxies: 1,
    haproxy: false,
    overrides: { hub: { allowNamedServers: true }, spawner: okServerSpawner() },
  })
  admin = await rootOf(c)
  aliceAtHub = await person(admin, 'alice')
  root = admin.token
  alice = aliceAtHub.token
}, 90_000)
afterAll(async () => c?.stop(), 60_000)

describe('hub', () => {
  it('GET / and /info', async () => {
    const r = await fetch(`${c.url}/hub/api`)
    expect(r.status).toBe(200)
    expect(r.headers.get('x-jupyterhub-version')).toBe('6.0.0')
    expect(await json(r)).toEqual({ version: '6.0.0' })
    const info = await json(await call('/info'))
    expect(Object.keys(info).sort()).toEqual([
      'authenticator',
      'edgehub',
      'python',
      'spawner',
      'sys_executable',
      'version',
    ])
    // strings, as the spec types them: the runtime running the hub (Node.js) and its path
    expect(info.python).toMatch(/^Node\.js \d+\.\d+\.\d+ /)
    expect(info.sys_executable).toMatch(/^\//)
    expect(await status('/info', { token: alice })).toBe(403)
    expect((await call('/users', { method: 'OPTIONS' })).status).toBe(200)
  })

  it('answers unknown endpoints and methods with JSON 404/405-style errors', async () => {
    const r = await call('/no/such/thing')
    expect(r.status).toBe(404)
    expect(await json(r)).toEqual({ status: 404, message: expect.stringContaining('no API endpoint') })
    expect(await json(await call('/authorizations/token', { method: 'POST' }))).toMatchObject({
      status: 404,
      message: expect.stringContaining('removed in JupyterHub 2.0'),
    })
  })
})

describe('users', () => {
  it("the user model has JupyterHub's fields", async () => {
    const m = await json(await call('/users/alice'))
    // auth_state: shown to holders of admin:auth_state (root), null as no authenticator here keeps one
    expect(Object.keys(m).sort()).toEqual(
      [
        'admin',
        'auth_state',
        'created',
        'groups',
        'kind',
        'last_activity',
        'name',
        'pending',
        'roles',
        'server',
        'servers',
      ].sort(),
    )
    expect(m).toMatchObject({
      kind: 'user',
      name: 'alice',
      admin: false,
      roles: ['user'],
      groups: [],
      server: null,
      pending: null,
      servers: {},
      auth_state: null,
    })
    expect(Date.parse(m.created)).not.toBeNaN()
    const me = await json(await call('/user', { token: alice }))
    expect(me).toMatchObject({ name: 'alice', session_id: null })
    expect(me.scopes).toContain('access:servers!user=alice')
  })

  it('creates several users at once, skipping existing ones; 409 when all exist', async () => {
    const r = await call('/users', { method: 'POST', body: { usernames: ['bulk1', 'bulk2', 'alice'], admin: false } })
    expect(r.status).toBe(201)
    expect((await json(r)).map((u: { name: string }) => u.name)).toEqual(['bulk1', 'bulk2'])
    expect(await status('/users', { method: 'POST', body: { usernames: ['bulk1'] } })).toBe(409)
  })

  it('pages with offset/limit and an absolute next URL, sorts, and filters by state', async () => {
    for (const n of ['page1', 'page2', 'page3']) await status(`/users/${n}`, { method: 'POST' })
    const r = await json(await call('/users?limit=2&include_stopped_servers', { accept: PAGE }))
    expect(r.items).toHaveLength(2)
    expect(r._pagination).toMatchObject({ offset: 0, limit: 2, total: expect.any(Number) })
    expect(r._pagination.next.url).toMatch(
      /^http:\/\/[^/]+\/hub\/api\/users\?limit=2&include_stopped_servers=&offset=2$/,
    )
    const next = await json(
      await fetch(r._pagination.next.url, { headers: { authorization: `token ${root}`, accept: PAGE } }),
    )
    expect(next._pagination.offset).toBe(2)
    expect(next.items[0].name).not.toBe(r.items[0].name)
    const byName = (await json(await call('/users?sort=-name&limit=200'))).map((u: { name: string }) => u.name)
    expect(byName).toEqual([...byName].sort().reverse())
    expect(await json(await call('/users?state=ready'))).toEqual([])
    expect(await status('/users?state=asleep')).toBe(400)
    expect(await status('/users?sort=colour')).toBe(400)
    expect(await status('/users?limit=-1')).toBe(400)
    expect(await status('/users?offset=x')).toBe(400)
  })

  it('renames a user and changes admin with PATCH, refusing a taken name', async () => {
    const t = (await person(admin, 'old')).token
    const r = await call('/users/old', { method: 'PATCH', body: { name: 'new', admin: true } })
    expect(r.status).toBe(200)
    expect(await json(r)).toMatchObject({ name: 'new', admin: true })
    expect(await status('/users/old')).toBe(404)
    // tokens follow the user
    expect((await json(await call('/user', { token: t }))).name).toBe('new')
    expect(await status('/users/new', { method: 'PATCH', body: { name: 'alice' } })).toBe(400)
    expect(await status('/users/new', { method: 'PATCH', body: {} })).toBe(200)
    expect(await status('/users/new', { method: 'PATCH', body: { admin: 'yes' } })).toBe(400)
  })

  it('refuses bad input with 400 and a message, changing nothing', async () => {
    const before = (await json(await call('/users?limit=200'))).length
    const cases: Array<[string, Init, number, RegExp]> = [
      ['/users/x1', { method: 'POST', body: { admin: true, colour: 'red' } }, 400, /unknown field: colour/],
      ['/users/x2', { method: 'POST', body: { admin: 'yes' } }, 400, /admin must be true or false/],
      ['/users/x3', { method: 'POST', raw: '{not json' }, 400, /not valid JSON/],
      ['/users/x4', { method: 'POST', raw: '[1]' }, 400, /JSON object/],
      ['/users/%20padded', { method: 'POST' }, 400, /invalid user name/],
      ['/users/Upper', { method: 'POST' }, 400, /invalid user name/],
      ['/users', { method: 'POST', body: { usernames: ['ok1', 'bad/name'] } }, 400, /invalid user name/],
      ['/users', { method: 'POST', body: { usernames: 'ok1' } }, 400, /usernames must be a list of strings/],
      [
        '/users/x5',
        { method: 'POST', raw: JSON.stringify({ admin: false, pad: 'x'.repeat(1100 * 1024) }) },
        413,
        /too large/,
      ],
      ['/users/alice/activity', { method: 'POST', body: { last_activity: 5 } }, 400, /last_activity must be a string/],
      ['/groups/x6', { method: 'POST', body: { users: ['nobody'] } }, 400, /no such user: nobody/],
      ['/users/alice/tokens', { method: 'POST', body: { expires_in: 'soon' } }, 400, /expires_in must be a number/],
    ]
    for (const [path, init, code, message] of cases) {
      const r = await call(path, init)
      expect(r.status, path).toBe(code)
      expect(await json(r), path).toEqual({ status: code, message: expect.stringMatching(message) })
    }
    expect((await json(await call('/users?limit=200'))).length).toBe(before)
    expect(await status('/groups/x6')).toBe(404)
    expect(await status('/users/ok1')).toBe(404)
  })

  it('never lets a name walk out of its path segment', async () => {
    for (const path of ['/users/..%2Froot', '/users/%2e%2e', '/users/a%2Fb/server', '/groups/..%2Fx']) {
      const r = await call(path, { method: 'POST' })
      expect(r.status, path).toBeGreaterThanOrEqual(400)
      expect(r.status, path).toBeLessThan(500)
    }
    expect((await json(await call('/users/root'))).admin).toBe(true)
  })

  it('deletes a user (204), not oneself (400), 404 for nobody', async () => {
    await status('/users/leaving', { method: 'POST' })
    expect(await status('/users/leaving', { method: 'DELETE' })).toBe(204)
    expect(await status('/users/leaving')).toBe(404)
    expect(await status('/users/root', { method: 'DELETE' })).toBe(400)
    expect(await status('/users/nobody', { method: 'DELETE' })).toBe(404)
  })
})

describe('servers', () => {
  it('starts (201), reports, stops (204), named servers with user_options and remove', async () => {
    expect(await status('/users/alice/server', { method: 'POST', token: alice })).toBe(201)
    expect(await status('/users/alice/server', { method: 'POST', token: alice })).toBe(400) // already running
    const m = await json(await call('/users/alice'))
    expect(m.server).toBe('/user/alice/')
    expect(Object.keys(m.servers['']).sort()).toEqual(
      [
        'display_name',
        'full_progress_url',
        'full_url',
        'last_activity',
        'name',
        'pending',
        'progress_url',
        'ready',
        'started',
        'state',
        'stopped',
        'url',
        'user_options',
      ].sort(),
    )
    expect(m.servers['']).toMatchObject({
      name: '',
      display_name: '',
      full_url: null,
      full_progress_url: null,
      ready: true,
      pending: null,
      stopped: false,
      url: '/user/alice/',
      progress_url: '/hub/api/users/alice/server/progress',
    })
    const progress = await call('/users/alice/server/progress', { token: alice })
    expect(progress.headers.get('content-type')).toMatch(/text\/event-stream/)
    expect(await progress.text()).toContain('"ready":true')
    expect(await status('/users/alice/server', { method: 'DELETE', body: { remove: true } })).toBe(400) // the default server cannot be removed

    expect(await status('/users/alice/servers/gpu', { method: 'POST', token: alice, body: { profile: 'small' } })).toBe(
      201,
    )
    const named = (await json(await call('/users/alice'))).servers.gpu
    expect(named).toMatchObject({
      name: 'gpu',
      ready: true,
      url: '/user/alice/gpu/',
      user_options: { profile: 'small' },
    })
    // a listing shows each user as the single-user endpoint does (its reads are made in bulk)
    expect(await status('/groups/listed', { method: 'POST', body: { users: ['alice'] } })).toBe(201)
    const single = await json(await call('/users/alice'))
    expect(single.groups).toEqual(['listed'])
    for (const q of ['/users?limit=200', '/users?sort=-name&limit=200', '/users?state=ready'])
      expect(
        (await json(await call(q))).find((u: { name: string }) => u.name === 'alice'),
        q,
      ).toEqual(single)
    expect(await status('/groups/listed', { method: 'DELETE' })).toBe(204)
    await waitFor(
      'the route',
      async () =>
        (await fetch(`${c.url}/user/alice/gpu/`, { headers: { authorization: `token ${alice}` } })).status === 200,
    )
    expect(await status('/users/alice/servers/gpu', { method: 'DELETE', token: alice })).toBe(204)
    const stopped = await json(await call('/users/alice?include_stopped_servers'))
    expect(stopped.servers.gpu).toMatchObject({ stopped: true, ready: false })
    expect((await json(await call('/users/alice'))).servers.gpu).toBeUndefined()
    expect(await status('/users/alice/servers/gpu', { method: 'DELETE', token: alice, body: { remove: true } })).toBe(
      204,
    )
    expect((await json(await call('/users/alice?include_stopped_servers'))).servers.gpu).toBeUndefined()
    expect(await status('/users/alice/servers/nope', { method: 'DELETE', token: alice })).toBe(404)
    expect(await status('/users/alice/server', { method: 'DELETE', token: alice })).toBe(204)
    expect(await status('/users/alice/server', { method: 'DELETE', token: alice })).toBe(204) // idempotent
    expect(await status('/users/alice/servers/x', { method: 'POST', token: alice, raw: '[1,2]' })).toBe(400)
  })
})

describe('groups', () => {
  it('creates, lists with pagination, edits members and properties, deletes', async () => {
    expect(await status('/groups', { method: 'POST', body: { groups: ['g1', 'g2'] } })).toBe(201)
    expect(await status('/groups', { method: 'POST', body: { groups: ['g1'] } })).toBe(409)
    const r = await call('/groups/g3', { method: 'POST', body: { users: ['alice'], properties: { course: 'intro' } } })
    expect(r.status).toBe(201)
    expect(await json(r)).toEqual({
      kind: 'group',
      name: 'g3',
      users: ['alice'],
      properties: { course: 'intro' },
      roles: [],
    })
    const page = await json(await call('/groups?limit=2', { accept: PAGE }))
    expect(page.items.map((g: { name: string }) => g.name)).toEqual(['g1', 'g2'])
    expect(page._pagination.next).toMatchObject({ offset: 2, limit: 2 })
    expect(
      await json(await call('/groups/g1/users', { method: 'POST', body: { users: ['alice', 'root'] } })),
    ).toMatchObject({ users: ['alice', 'root'] })
    expect(await json(await call('/groups/g1/users', { method: 'DELETE', body: { users: ['root'] } }))).toMatchObject({
      users: ['alice'],
    })
    expect((await json(await call('/users/alice'))).groups).toEqual(['g1', 'g3'])
    expect(await json(await call('/groups/g1/properties', { method: 'PUT', body: { a: 1 } }))).toMatchObject({
      properties: { a: 1 },
    })
    expect(await status('/groups/g1/properties', { method: 'PUT', raw: '"x"' })).toBe(400)
    expect(await status('/groups/g2', { method: 'DELETE' })).toBe(204)
    expect(await status('/groups/g2')).toBe(404)
    expect(await status('/groups/g3', { method: 'DELETE' })).toBe(204)
    expect((await json(await call('/users/alice'))).groups).toEqual(['g1'])
    expect(await status('/groups', { token: alice })).toBe(403)
  })
})

describe('tokens', () => {
  it("the token model has JupyterHub's fields", async () => {
    const r = await json(await call('/users/alice/tokens', { method: 'POST', body: { note: 'x' }, token: alice }))
    // a user's token names its user and leaves `service` out (JupyterHub; the spec types it as a string)
    expect(Object.keys(r).sort()).toEqual(
      [
        'created',
        'expires_at',
        'id',
        'kind',
        'last_activity',
        'note',
        'oauth_client',
        'roles',
        'scopes',
        'session_id',
        'token',
        'user',
      ].sort(),
    )
    expect(await status(`/users/alice/tokens/${r.id}`, { method: 'DELETE', token: alice })).toBe(204)
    expect(await status(`/users/alice/tokens/${r.id}`, { method: 'DELETE', token: alice })).toBe(404)
  })
})

describe('proxy and authorizations', () => {
  it('GET /proxy shows the routing table as configurable-http-proxy does; POST syncs; PATCH accepts', async () => {
    expect(await status('/users/alice/server', { method: 'POST', token: alice })).toBe(201)
    const routes = await json(await call('/proxy'))
    expect(routes['/user/alice/']).toEqual({
      routespec: '/user/alice/',
      target: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      data: { user: 'alice', server_name: '' },
    })
    const page = await json(await call('/proxy?limit=1', { accept: PAGE }))
    expect(Object.keys(page.items)).toHaveLength(1)
    expect(await status('/proxy', { method: 'POST' })).toBe(200)
    expect(await status('/proxy', { method: 'PATCH', body: { api_url: 'http://127.0.0.1:8001' } })).toBe(200)
    expect(await status('/proxy', { token: alice })).toBe(403)
    expect(await status('/users/alice/server', { method: 'DELETE', token: alice })).toBe(204)
  })

  it("GET /authorizations/token/{token} identifies a token's owner", async () => {
    const other = (await ownToken(aliceAtHub.client, 'alice')).token
    expect(await json(await call(`/authorizations/token/${other}`, { token: root }))).toMatchObject({
      kind: 'user',
      name: 'alice',
    })
    expect(await status('/authorizations/token/not-a-token')).toBe(404)
  })

  it('POST /shutdown needs the shutdown scope', async () => {
    expect(await status('/shutdown', { method: 'POST', token: alice })).toBe(403)
    expect(await status('/shutdown', { method: 'POST', body: { servers: 'maybe' } })).toBe(400)
  })
})
