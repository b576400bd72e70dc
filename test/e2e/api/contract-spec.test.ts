// Every operation of JupyterHub 6.0's REST spec (test/support/jupyterhub-models.ts), called through
// the proxy with the credentials the spec asks for: its status code, and the answer checked against
// the spec's model (fields and their types). The operations called here must be exactly the spec's,
// and the deliberate differences listed in docs/rest-api.md are checked to still hold, so that one
// that goes away is noticed (and its entry removed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { okServerSpawner } from '../../support/servers'
import { json } from '../../support/client'
import { addUser, person, rootOf, serverRouted, type Admin } from '../../support/people'
import { SPEC_OPERATIONS, modelProblems, type ModelName, type Operation } from '../../support/jupyterhub-models'

const PAGE = 'application/jupyterhub-pagination+json'
const SERVICE_TOKEN = 'contract-service-token-0123456789abcdef'

let s: Stack
let root: Admin
let alice: Admin

type Init = { method?: string; body?: unknown; token?: string; accept?: string; form?: Record<string, string> }
const call = (path: string, o: Init = {}) =>
  fetch(`${s.url}/hub/api${path}`, {
    method: o.method ?? 'GET',
    redirect: 'manual',
    headers: {
      ...(o.token === '' ? {} : { authorization: `token ${o.token ?? root.token}` }),
      ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(o.accept ? { accept: o.accept } : {}),
    },
    body: o.form ? new URLSearchParams(o.form) : o.body === undefined ? undefined : JSON.stringify(o.body),
  })

/** The operations each scenario below calls, declared beside it; the union must be the spec's. */
const DECLARED = new Map<string, readonly Operation[]>()
let covered = new Set<string>()

/** A test calling `ops` (all of them, and no others: checked at its end). */
function scenario(name: string, ops: readonly Operation[], fn: () => Promise<void>, timeout?: number) {
  DECLARED.set(name, ops)
  it(
    name,
    async () => {
      covered = new Set()
      await fn()
      expect([...covered].sort(), `operations called by "${name}"`).toEqual([...ops].sort())
    },
    timeout,
  )
}

/**
 * Calls an operation of the spec and checks the status; with `model`, the answer against it (`[]`
 * after the name: a list of them; `page`: the pagination envelope around a list). The answer's JSON.
 */
async function op(
  operation: Operation,
  path: string,
  o: Init & { status: number; model?: ModelName; list?: boolean; page?: boolean; absent?: string[] },
): Promise<any> {
  covered.add(operation)
  const r = await call(path, o)
  const text = await r.text()
  expect(r.status, `${operation} (${path}): ${text.slice(0, 300)}`).toBe(o.status)
  if (r.status >= 200 && r.status < 300 && path.startsWith('/') && r.headers.get('content-type')?.includes('json')) {
    expect(r.headers.get('x-jupyterhub-version'), operation).toBe('6.0.0')
  }
  if (!o.model) return text ? JSON.parse(text) : undefined
  const body = JSON.parse(text)
  let items: unknown[] = [body]
  if (o.page) {
    expect(modelProblems('Pagination', body._pagination, 'Pagination'), operation).toEqual([])
    items = body.items
  } else if (o.list) items = body
  expect(Array.isArray(items), operation).toBe(true)
  expect(items.length, `${operation}: the list checked has items`).toBeGreaterThan(0)
  for (const item of items) expect(modelProblems(o.model, item, o.model, o.absent), operation).toEqual([])
  return body
}

beforeAll(async () => {
  s = await startStack({
    hub: { allowNamedServers: true },
    spawner: okServerSpawner(),
    services: [
      {
        name: 'grader',
        url: 'http://127.0.0.1:9',
        apiToken: SERVICE_TOKEN,
        oauthNoConfirm: true,
        info: { course: 'intro' },
      },
    ],
  })
  root = await rootOf(s)
  alice = await person(root, 'alice')
}, 90_000)
afterAll(async () => s?.stop(), 60_000)

describe('JupyterHub 6.0 REST spec, operation by operation', () => {
  scenario(
    'the hub: version, info, the caller, the proxy',
    ['GET /', 'GET /info', 'GET /user', 'GET /proxy', 'POST /proxy', 'PATCH /proxy'],
    async () => {
      expect(await op('GET /', '/', { status: 200, token: '', model: 'Version' })).toEqual({ version: '6.0.0' })
      await op('GET /info', '/info', { status: 200, model: 'Info' })
      await op('GET /info', '/info', { status: 403, token: alice.token })
      expect(
        await op('GET /user', '/user', { status: 200, token: alice.token, model: 'RequestIdentity' }),
      ).toMatchObject({ name: 'alice', kind: 'user' })
      // a service's token: the Service model with the same request fields
      const svc = await op('GET /user', '/user', { status: 200, token: SERVICE_TOKEN, model: 'Service' })
      expect(svc).toMatchObject({ kind: 'service', name: 'grader', session_id: null, token_id: expect.any(String) })
      expect(modelProblems('RequestIdentity', svc, 'RequestIdentity', ['groups'])).toEqual([])
      expect(typeof (await op('GET /proxy', '/proxy', { status: 200 }))).toBe('object')
      await op('POST /proxy', '/proxy', { method: 'POST', status: 200 })
      await op('PATCH /proxy', '/proxy', { method: 'PATCH', body: { ip: '127.0.0.1', port: '8000' }, status: 200 })
      await op('GET /proxy', '/proxy', { status: 403, token: alice.token })
    },
  )

  scenario(
    'users',
    [
      'POST /users',
      'GET /users',
      'POST /users/{name}',
      'GET /users/{name}',
      'PATCH /users/{name}',
      'POST /users/{name}/activity',
      'DELETE /users/{name}',
    ],
    async () => {
      await op('POST /users', '/users', {
        method: 'POST',
        body: { usernames: ['spec-u1', 'spec-u2'], admin: false },
        status: 201,
        model: 'User',
        list: true,
      })
      await op('GET /users', '/users', { status: 200, model: 'User', list: true })
      await op('GET /users', '/users?limit=2', { status: 200, model: 'User', page: true, accept: PAGE })
      await op('GET /users', '/users', { status: 403, token: alice.token })
      await op('POST /users/{name}', '/users/spec-u3', { method: 'POST', status: 201, model: 'User' })
      await op('GET /users/{name}', '/users/spec-u3', { status: 200, model: 'User' })
      await op('GET /users/{name}', '/users/spec-u3?include_stopped_servers', { status: 200, model: 'User' })
      await op('PATCH /users/{name}', '/users/spec-u3', {
        method: 'PATCH',
        body: { name: 'spec-u4' },
        status: 200,
        model: 'User',
      })
      await op('POST /users/{name}/activity', '/users/spec-u4/activity', {
        method: 'POST',
        body: { last_activity: new Date().toISOString(), servers: { '': { last_activity: new Date().toISOString() } } },
        status: 200,
      })
      await op('POST /users/{name}/activity', '/users/nobody/activity', {
        method: 'POST',
        body: { last_activity: new Date().toISOString() },
        status: 404,
      })
      await op('DELETE /users/{name}', '/users/spec-u4', { method: 'DELETE', status: 204 })
      await op('GET /users/{name}', '/users/spec-u4', { status: 404 })
    },
  )

  scenario(
    'servers, JupyterHub 6 management included',
    [
      'PUT /users/{name}/servers/{server_name}',
      'PATCH /users/{name}/servers/{server_name}',
      'GET /users/{name}/servers/{server_name}',
      'POST /users/{name}/servers/{server_name}',
      'DELETE /users/{name}/servers/{server_name}',
      'POST /users/{name}/server',
      'GET /users/{name}',
      'DELETE /users/{name}/server',
    ],
    async () => {
      const m = await op('PUT /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        method: 'PUT',
        token: alice.token,
        body: { display_name: 'Spec Lab', user_options: { size: 's' } },
        status: 201,
        model: 'Server',
      })
      expect(m).toMatchObject({
        name: 'spec-lab',
        display_name: 'Spec Lab',
        stopped: true,
        user_options: { size: 's' },
      })
      await op('PUT /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        method: 'PUT',
        token: alice.token,
        status: 409,
      })
      await op('PATCH /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        method: 'PATCH',
        token: alice.token,
        body: { display_name: 'Lab' },
        status: 200,
        model: 'Server',
      })
      await op('GET /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        status: 200,
        token: alice.token,
        model: 'Server',
      })
      await op('GET /users/{name}/servers/{server_name}', '/users/alice/servers/', {
        status: 200,
        token: alice.token,
        model: 'Server',
      })
      await op('GET /users/{name}/servers/{server_name}', '/users/alice/servers/nope', {
        status: 404,
        token: alice.token,
      })
      const start = await call('/users/alice/servers/spec-lab', { method: 'POST', token: alice.token })
      expect([201, 202]).toContain(start.status)
      covered.add('POST /users/{name}/servers/{server_name}')
      await serverRouted(s.url, alice.token, 'alice', { server: 'spec-lab' })
      const running = await op('GET /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        status: 200,
        token: alice.token,
        model: 'Server',
      })
      expect(running).toMatchObject({ ready: true, display_name: 'Lab', user_options: { size: 's' } })
      await op('DELETE /users/{name}/servers/{server_name}', '/users/alice/servers/spec-lab', {
        method: 'DELETE',
        token: alice.token,
        body: { remove: true },
        status: 204,
      })

      const def = await call('/users/alice/server', { method: 'POST', token: alice.token })
      expect([201, 202]).toContain(def.status)
      covered.add('POST /users/{name}/server')
      await serverRouted(s.url, alice.token, 'alice')
      await op('GET /users/{name}', '/users/alice', { status: 200, model: 'User' })
      await op('DELETE /users/{name}/server', '/users/alice/server', {
        method: 'DELETE',
        token: alice.token,
        status: 204,
      })
    },
  )

  scenario(
    'tokens',
    [
      'POST /users/{name}/tokens',
      'GET /users/{name}/tokens',
      'GET /users/{name}/tokens/{token_id}',
      'DELETE /users/{name}/tokens/{token_id}',
    ],
    async () => {
      const t = await op('POST /users/{name}/tokens', '/users/alice/tokens', {
        method: 'POST',
        token: alice.token,
        body: { note: 'spec', expires_in: 3600 },
        status: 201,
        model: 'NewToken',
      })
      await op('POST /users/{name}/tokens', '/users/alice/tokens', {
        method: 'POST',
        token: alice.token,
        body: { scopes: ['no-such-scope'] },
        status: 400,
      })
      expect(
        (
          await op('GET /users/{name}/tokens', '/users/alice/tokens', {
            token: alice.token,
            status: 200,
            model: 'TokenList',
          })
        ).api_tokens.length,
      ).toBeGreaterThan(0)
      await op('GET /users/{name}/tokens/{token_id}', `/users/alice/tokens/${t.id}`, {
        token: alice.token,
        status: 200,
        model: 'Token',
      })
      await op('GET /users/{name}/tokens', '/users/nobody/tokens', { status: 404 })
      await op('DELETE /users/{name}/tokens/{token_id}', `/users/alice/tokens/${t.id}`, {
        method: 'DELETE',
        token: alice.token,
        status: 204,
      })
    },
  )

  scenario(
    'groups',
    [
      'POST /groups/{name}',
      'GET /groups',
      'GET /groups/{name}',
      'POST /groups/{name}/users',
      'PUT /groups/{name}/properties',
      'DELETE /groups/{name}/users',
      'DELETE /groups/{name}',
    ],
    async () => {
      await op('POST /groups/{name}', '/groups/spec-g', { method: 'POST', status: 201, model: 'Group' })
      await op('GET /groups', '/groups', { status: 200, model: 'Group', list: true })
      await op('GET /groups', '/groups?limit=1', { status: 200, model: 'Group', page: true, accept: PAGE })
      await op('GET /groups/{name}', '/groups/spec-g', { status: 200, model: 'Group' })
      expect(
        await op('POST /groups/{name}/users', '/groups/spec-g/users', {
          method: 'POST',
          body: { users: ['alice'] },
          status: 200,
          model: 'Group',
        }),
      ).toMatchObject({ users: ['alice'] })
      await op('PUT /groups/{name}/properties', '/groups/spec-g/properties', {
        method: 'PUT',
        body: { course: 'intro' },
        status: 200,
        model: 'Group',
      })
      await op('DELETE /groups/{name}/users', '/groups/spec-g/users', {
        method: 'DELETE',
        body: { users: ['alice'] },
        status: 200,
      })
      await op('DELETE /groups/{name}', '/groups/spec-g', { method: 'DELETE', status: 204 })
      await op('GET /groups/{name}', '/groups/spec-g', { status: 404 })
    },
  )

  scenario(
    'sharing: shares and share codes',
    [
      'POST /shares/{owner}/{server_name}',
      'GET /shares/{owner}',
      'GET /shares/{owner}/{server_name}',
      'GET /users/{name}/shared',
      'GET /users/{name}/shared/{owner}/{server_name}',
      'GET /groups/{name}/shared',
      'GET /groups/{name}/shared/{owner}/{server_name}',
      'DELETE /groups/{name}/shared/{owner}/{server_name}',
      'PATCH /shares/{owner}/{server_name}',
      'DELETE /users/{name}/shared/{owner}/{server_name}',
      'DELETE /shares/{owner}/{server_name}',
      'POST /share-codes/{owner}/{server_name}',
      'GET /share-codes/{owner}',
      'GET /share-codes/{owner}/{server_name}',
      'DELETE /share-codes/{owner}/{server_name}',
    ],
    async () => {
      await addUser(root, 'bob')
      await call('/groups/spec-team', { method: 'POST' })
      await op('POST /shares/{owner}/{server_name}', '/shares/alice/', {
        method: 'POST',
        body: { user: 'bob' },
        status: 200,
        model: 'Share',
      })
      await op('POST /shares/{owner}/{server_name}', '/shares/alice/', {
        method: 'POST',
        body: { group: 'spec-team' },
        status: 200,
        model: 'Share',
      })
      await op('GET /shares/{owner}', '/shares/alice', { status: 200, model: 'Share', page: true })
      await op('GET /shares/{owner}/{server_name}', '/shares/alice/', { status: 200, model: 'Share', page: true })
      await op('GET /users/{name}/shared', '/users/bob/shared', { status: 200, model: 'Share', page: true })
      await op('GET /users/{name}/shared/{owner}/{server_name}', '/users/bob/shared/alice/', {
        status: 200,
        model: 'Share',
      })
      await op('GET /groups/{name}/shared', '/groups/spec-team/shared', { status: 200, model: 'Share', page: true })
      await op('GET /groups/{name}/shared/{owner}/{server_name}', '/groups/spec-team/shared/alice/', {
        status: 200,
        model: 'Share',
      })
      await op('DELETE /groups/{name}/shared/{owner}/{server_name}', '/groups/spec-team/shared/alice/', {
        method: 'DELETE',
        status: 204,
      })
      await op('PATCH /shares/{owner}/{server_name}', '/shares/alice/', {
        method: 'PATCH',
        body: { user: 'bob', scopes: ['access:servers!server=alice/'] },
        status: 200,
      })
      await op('POST /shares/{owner}/{server_name}', '/shares/alice/', {
        method: 'POST',
        body: { user: 'bob' },
        status: 200,
        model: 'Share',
      })
      await op('DELETE /users/{name}/shared/{owner}/{server_name}', '/users/bob/shared/alice/', {
        method: 'DELETE',
        status: 204,
      })
      await op('DELETE /shares/{owner}/{server_name}', '/shares/alice/', { method: 'DELETE', status: 204 })

      const code = await op('POST /share-codes/{owner}/{server_name}', '/share-codes/alice/', {
        method: 'POST',
        body: { expires_in: 3600 },
        status: 200,
        model: 'NewShareCode',
      })
      await op('GET /share-codes/{owner}', '/share-codes/alice', { status: 200, model: 'ShareCode', page: true })
      await op('GET /share-codes/{owner}/{server_name}', '/share-codes/alice/', {
        status: 200,
        model: 'ShareCode',
        page: true,
      })
      await op('DELETE /share-codes/{owner}/{server_name}', `/share-codes/alice/?id=${code.id}`, {
        method: 'DELETE',
        status: 204,
      })
    },
  )

  scenario('services', ['GET /services', 'GET /services/{name}'], async () => {
    await op('GET /services', '/services', { status: 200 }) // an object keyed by name: see the differences
    await op('GET /services/{name}', '/services/grader', { status: 200, model: 'Service' })
    await op('GET /services/{name}', '/services/nope', { status: 404 })
  })

  scenario(
    'authorizations (deprecated) and OAuth',
    [
      'GET /authorizations/token/{token}',
      'POST /authorizations/token',
      'GET /authorizations/cookie/{cookie_name}/{cookie_value}',
      'GET /oauth2/authorize',
      'POST /oauth2/token',
    ],
    async () => {
      expect(
        await op('GET /authorizations/token/{token}', `/authorizations/token/${alice.token}`, {
          status: 200,
          model: 'User',
        }),
      ).toMatchObject({ name: 'alice' })
      await op('GET /authorizations/token/{token}', '/authorizations/token/not-a-token', { status: 404 })
      await op('POST /authorizations/token', '/authorizations/token', { method: 'POST', status: 404 }) // see the differences
      await op('GET /authorizations/cookie/{cookie_name}/{cookie_value}', '/authorizations/cookie/edgehub-session/x', {
        status: 404,
      }) // see the differences

      const browser = root.client // an admin may use every service, as in JupyterHub
      covered.add('GET /oauth2/authorize')
      const redirect = '/services/grader/oauth_callback'
      const authorized = await browser.get(
        `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'service-grader', redirect_uri: redirect, response_type: 'code', state: 'st' })}`,
      )
      // the spec's 200 is the consent page; a client that needs no consent is sent back at once, as in JupyterHub
      expect(authorized.status).toBe(302)
      const code = new URL(authorized.headers.get('location')!, s.url).searchParams.get('code')!
      const bad = await browser.get(
        `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: 'no-such-client', redirect_uri: redirect, response_type: 'code' })}`,
      )
      expect(bad.status).toBe(400)
      await bad.body?.cancel()
      const t = await op('POST /oauth2/token', '/oauth2/token', {
        method: 'POST',
        token: '',
        form: {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirect,
          client_id: 'service-grader',
          client_secret: SERVICE_TOKEN,
        },
        status: 200,
        model: 'OAuthToken',
      })
      expect(t.token_type).toBe('Bearer')
    },
  )

  scenario('shutdown needs its scope and checks its body (the hub is left running)', ['POST /shutdown'], async () => {
    await op('POST /shutdown', '/shutdown', { method: 'POST', token: alice.token, status: 403 })
    await op('POST /shutdown', '/shutdown', { method: 'POST', body: { servers: 'maybe' }, status: 400 })
  })

  it('the scenarios call exactly the operations of the spec', () => {
    const all = new Set([...DECLARED.values()].flat())
    expect([...all].sort()).toEqual([...SPEC_OPERATIONS].sort())
  })
})

/**
 * The deliberate differences from JupyterHub that docs/rest-api.md lists and that show in the API,
 * each checked to still hold: when one stops holding, its entry there (and here) goes.
 */
const DIFFERENCES: Array<[string, () => Promise<void>]> = [
  [
    'GET /services answers an object keyed by service name (as JupyterHub does; its spec says a list)',
    async () => {
      const r = await json(await call('/services'))
      expect(Array.isArray(r)).toBe(false)
      expect(modelProblems('Service', r.grader)).toEqual([])
    },
  ],
  [
    'GET /authorizations/cookie/{name}/{value} is not served, even for a valid session cookie',
    async () => {
      const session = root.client.jar.get('edgehub-session')!
      expect(session).toBeTruthy()
      expect((await call(`/authorizations/cookie/edgehub-session/${encodeURIComponent(session)}`)).status).toBe(404)
    },
  ],
  [
    "a server's state is {} even for admins (spawner state stays internal)",
    async () => {
      expect((await json(await call('/users/alice/servers/'))).state).toEqual({})
    },
  ],
  [
    'GET /info: python describes the Node.js runtime running the hub',
    async () => {
      expect((await json(await call('/info'))).python).toMatch(/^Node\.js /)
    },
  ],
  [
    'POST /users/{name}/tokens refuses expires_in: 0 (JupyterHub reads it as no expiry)',
    async () => {
      const r = await call('/users/alice/tokens', { method: 'POST', token: alice.token, body: { expires_in: 0 } })
      expect(r.status).toBe(400)
    },
  ],
  [
    'a token may not issue a token with scopes its holder lacks, though the owner holds them',
    async () => {
      const narrow = await json(
        await call('/users/alice/tokens', {
          method: 'POST',
          token: alice.token,
          body: { scopes: ['tokens!user=alice'] },
        }),
      )
      const r = await call('/users/alice/tokens', {
        method: 'POST',
        token: narrow.token,
        body: { scopes: ['read:users!user=alice'] },
      })
      expect(r.status).toBe(403)
    },
  ],
  [
    'sort=id (the default) is name order',
    async () => {
      for (const n of ['zz-order', 'aa-order']) await call(`/users/${n}`, { method: 'POST' })
      const names: string[] = (await json(await call('/users?sort=id&limit=200'))).map((u: { name: string }) => u.name)
      expect(names).toEqual([...names].sort())
    },
  ],
  [
    "activity reported for a default server that never started raises only the user's last_activity",
    async () => {
      await call('/users/diff-idle', { method: 'POST' })
      const at = new Date(Date.now() - 60_000).toISOString()
      expect(
        (await call('/users/diff-idle/activity', { method: 'POST', body: { servers: { '': { last_activity: at } } } }))
          .status,
      ).toBe(200)
      expect((await json(await call('/users/diff-idle'))).last_activity).not.toBeNull()
      expect((await json(await call('/users/diff-idle/servers/'))).last_activity).toBeNull()
    },
  ],
]

describe('deliberate differences from JupyterHub, as docs/rest-api.md lists them', () => {
  for (const [difference, holds] of DIFFERENCES) it(difference, holds)

  it('the model check notices a field of the wrong type, a missing one and a bad time', () => {
    const good = {
      name: 'a',
      display_name: 'a',
      ready: false,
      stopped: true,
      pending: null,
      url: '/user/x/a/',
      progress_url: '/p',
      full_url: null,
      full_progress_url: null,
      started: null,
      last_activity: null,
      user_options: {},
    }
    expect(modelProblems('Server', good)).toEqual([])
    expect(modelProblems('Server', { ...good, ready: 'no' })).toEqual([expect.stringContaining('Server.ready')])
    const { display_name: _, ...missing } = good
    expect(modelProblems('Server', missing)).toEqual(['Server.display_name is missing'])
    expect(modelProblems('Server', { ...good, started: 'yesterday' })).toEqual([
      expect.stringContaining('Server.started'),
    ])
    expect(
      modelProblems('User', {
        name: 'u',
        kind: 'user',
        admin: false,
        roles: [],
        groups: [],
        server: null,
        pending: null,
        last_activity: null,
        servers: { a: { ...good, url: 5 } },
      }),
    ).toEqual([expect.stringContaining('User.servers.a.url')])
  })
})
