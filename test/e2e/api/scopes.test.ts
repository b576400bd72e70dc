// Roles, scopes, tokens and groups through the proxy with two hub replicas: what each token may call,
// filtered scopes through groups, access:servers applied by the proxy, token revocation everywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { json } from '../../support/client'
import { waitFor } from '../../../runtime/src/wait'
import { okServerSpawner } from '../../support/servers'
import { addUser, person, rootOf } from '../../support/people'

let c: Cluster
let root: string // admin token
const tokens: Record<string, string> = {}

const api = (path: string, token: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${c.url}/hub/api${path}`, {
    ...init,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  })
const status = async (path: string, token: string, init: RequestInit = {}) => {
  const r = await api(path, token, init)
  await r.body?.cancel()
  return r.status
}
const issue = async (user: string, scopes?: string[], as = root) => {
  const r = await api(`/users/${user}/tokens`, as, {
    method: 'POST',
    body: JSON.stringify({ note: 'test', ...(scopes ? { scopes } : {}) }),
  })
  expect(r.status).toBe(201)
  return (await json(r)).token as string
}

beforeAll(async () => {
  c = await startCluster({
    hubs: 2,
    proxies: 1,
    haproxy: false,
    overrides: {
      hub: { allowNamedServers: true },
      roles: [
        {
          name: 'grader',
          scopes: [
            'list:users!group=students',
            'read:users!group=students',
            'access:servers!group=students',
            'read:groups!group=students',
          ],
          groups: ['tas'],
        },
        { name: 'monitor', scopes: ['read:hub', 'list:users', 'read:users:name'], users: ['mona'] },
        { name: 'registrar', scopes: ['admin:users!group=students'], users: ['reg'] },
      ],
      spawner: okServerSpawner(),
    },
  })
  // root with the CLI; the others added by root on the admin page, each with a full token of their
  // own from their login session; sue, who needs no token, through the API
  const admin = await rootOf(c)
  root = admin.token
  for (const u of ['tom', 'sam', 'mona', 'zed', 'reg']) tokens[u] = (await person(admin, u)).token
  await addUser(admin, 'sue')
  expect(
    await status('/groups', root, {
      method: 'POST',
      body: JSON.stringify({ groups: ['students'], users: ['sam', 'sue'] }),
    }),
  ).toBe(201)
  expect(await status('/groups/tas', root, { method: 'POST', body: JSON.stringify({ users: ['tom'] }) })).toBe(201)
}, 90_000)
afterAll(async () => c?.stop(), 60_000)

describe('tokens API', () => {
  it('issues a token with scopes, lists, reads and revokes it; revocation holds at the proxy at once', async () => {
    const r = await api('/users/zed/tokens', tokens.zed, {
      method: 'POST',
      body: JSON.stringify({ note: 'ci', expires_in: 3600, scopes: ['read:users!user=zed'] }),
    })
    expect(r.status).toBe(201)
    const t = await json(r)
    expect(t).toMatchObject({ kind: 'api_token', user: 'zed', note: 'ci', roles: [], session_id: null })
    expect(t.token).toMatch(/^\S{20,}$/)
    expect(t.scopes).toEqual([
      'read:users!user=zed',
      'read:users:activity!user=zed',
      'read:users:groups!user=zed',
      'read:users:name!user=zed',
    ])
    expect(Date.parse(t.expires_at) - Date.now()).toBeGreaterThan(3500_000)
    const list = await json(await api('/users/zed/tokens', tokens.zed))
    expect(list.api_tokens.map((x: { id: string }) => x.id)).toContain(t.id)
    expect(list.api_tokens.every((x: Record<string, unknown>) => !('token' in x))).toBe(true)
    expect((await json(await api(`/users/zed/tokens/${t.id}`, tokens.zed))).note).toBe('ci')

    // what the narrow token may do
    const me = await json(await api('/user', t.token))
    expect(me).toMatchObject({ kind: 'user', name: 'zed' })
    expect(me.scopes).toContain('read:users!user=zed')
    expect(await status('/users/zed', t.token)).toBe(200)
    expect(await status('/users/zed/server', t.token, { method: 'POST' })).toBe(403)
    expect(await status('/users/zed/tokens', t.token)).toBe(403)

    expect(await status(`/users/zed/tokens/${t.id}`, tokens.zed, { method: 'DELETE' })).toBe(204)
    expect(await json(await api('/user', t.token))).toEqual({ status: 403, message: 'Missing or invalid credentials.' })
    expect(await status(`/users/zed/tokens/${t.id}`, tokens.zed)).toBe(404)
  })

  it('refuses scopes the caller does not hold, unknown scopes and bad fields, creating nothing', async () => {
    const before = (await json(await api('/users/zed/tokens', tokens.zed))).api_tokens.length
    const post = (body: unknown) => api('/users/zed/tokens', tokens.zed, { method: 'POST', body: JSON.stringify(body) })
    const cases: Array<[unknown, number, RegExp]> = [
      // what the owner does not hold: JupyterHub's 400, naming the expanded scopes
      [
        { scopes: ['admin:users'] },
        400,
        /^Not assigning requested scopes (\S+,)*admin:users(,\S+)* not held by User zed$/,
      ],
      [
        { scopes: ['read:users!user=tom'] },
        400,
        /^Not assigning requested scopes \S*read:users!user=tom\S* not held by User zed$/,
      ],
      [
        { scopes: ['read:users!user=zed'], roles: ['user'] },
        400,
        /^Can only assign one of scopes or roles when creating tokens\.$/,
      ],
      [{ roles: ['nobody'] }, 400, /^No such role: nobody$/],
      [{ scopes: ['read:everything'] }, 400, /unknown scope/],
      [{ scopes: 'read:users' }, 400, /scopes must be a list of strings/],
      [{ expires_in: -5 }, 400, /expires_in/],
      [{ colour: 'blue' }, 400, /unknown field: colour/],
      [[1, 2], 400, /JSON object/],
    ]
    for (const [body, code, message] of cases) {
      const r = await post(body)
      expect(r.status, JSON.stringify(body)).toBe(code)
      const b = await json(r)
      expect(b).toEqual({ status: code, message: expect.stringMatching(message) })
    }
    expect((await json(await api('/users/zed/tokens', tokens.zed))).api_tokens.length).toBe(before)
  })

  it("lets an admin issue a token for another user, not one another user's token may manage", async () => {
    const r = await api('/users/sam/tokens', root, {
      method: 'POST',
      body: JSON.stringify({ scopes: ['read:users!user=sam'] }),
    })
    expect(r.status).toBe(201)
    expect((await json(r)).note).toBe('Requested via api by user root')
    expect(await status('/users/sam/tokens', tokens.zed)).toBe(404)
    expect(await status('/users/nobody/tokens', root)).toBe(404)
  })
})

describe('scope matrix', () => {
  it('each token may call exactly what its scopes allow', async () => {
    const narrow = {
      readSelf: await issue('zed', ['read:users!user=zed']),
      listOnly: await issue('mona', ['list:users']),
      hub: await issue('mona', ['read:hub']),
      groups: await issue('root', ['read:groups']),
      nothing: await issue('zed', ['(no_scope)']),
    }
    const matrix: Array<[string, string, string, number]> = [
      // token, method, path, status
      ['readSelf', 'GET', '/users/zed', 200],
      ['readSelf', 'GET', '/users/tom', 404], // filtered: others look missing, as in JupyterHub
      ['readSelf', 'GET', '/users', 403],
      ['readSelf', 'GET', '/info', 403],
      ['listOnly', 'GET', '/users', 200],
      ['listOnly', 'GET', '/users/zed', 200], // list:users includes read:users:name
      ['listOnly', 'DELETE', '/users/zed', 403],
      ['hub', 'GET', '/info', 200],
      ['hub', 'GET', '/users', 403],
      ['groups', 'GET', '/groups/students', 200],
      ['groups', 'GET', '/groups', 403],
      ['groups', 'POST', '/groups/x', 403],
      ['nothing', 'GET', '/user', 200],
      ['nothing', 'GET', '/users/zed', 403],
      ['nothing', 'POST', '/users/zed/activity', 403],
    ]
    for (const [tok, method, path, code] of matrix) {
      const body = method === 'POST' ? JSON.stringify({}) : undefined
      expect(await status(path, narrow[tok as keyof typeof narrow], { method, body }), `${tok} ${method} ${path}`).toBe(
        code,
      )
    }
    // (no_scope) still identifies its owner, and shows nothing beyond name and groups
    const me = await json(await api('/user', narrow.nothing))
    expect(Object.keys(me).sort()).toEqual(
      ['groups', 'kind', 'name', 'scopes', 'session_id', 'token_id', 'admin'].sort(),
    )
    expect(me.scopes).toEqual([])
    // list:users alone shows names only
    const listed = await json(await api('/users', narrow.listOnly))
    expect(listed.find((u: { name: string }) => u.name === 'sam')).toEqual({ kind: 'user', name: 'sam', admin: false })
  })

  it('a role filtered by group grants what it names over members of that group only', async () => {
    const listed = await json(await api('/users', tokens.tom))
    expect(listed.map((u: { name: string }) => u.name).sort()).toEqual(['sam', 'sue']) // self has no list:users
    expect(await status('/users/sam', tokens.tom)).toBe(200)
    expect(await status('/users/zed', tokens.tom)).toBe(404)
    expect(await status('/groups/students', tokens.tom)).toBe(200)
    expect(await status('/groups/tas', tokens.tom)).toBe(404)
    expect((await json(await api('/users/tom', tokens.tom))).roles).toEqual(['user', 'grader'])
  })
})

describe('access:servers at the proxy', () => {
  it('lets a grader into a student server, keeps others out, and follows group changes', async () => {
    expect(await status('/users/sam/server', tokens.sam, { method: 'POST' })).toBe(201)
    const open = async (token: string) =>
      (await fetch(`${c.url}/user/sam/`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })).status
    await waitFor('the route', async () => (await open(tokens.sam)) === 200)
    expect(await open(tokens.tom)).toBe(200) // grader through the students group
    expect(await open(tokens.zed)).toBe(403)
    // a token of tom's without access:servers is refused even though tom may
    const readOnly = await issue('tom', ['read:users!group=students'], tokens.tom)
    expect(await open(readOnly)).toBe(403)
    // and one limited to another server does not open this one
    expect(await open(await issue('tom', ['access:servers!server=sam/other'], tokens.tom))).toBe(403)
    expect(await open(await issue('tom', ['access:servers!server=sam/'], tokens.tom))).toBe(200)
    // an admin holds access:servers (JupyterHub's admin role), so may hand it to tom
    const handed = await issue('tom', ['access:servers!server=sam/'])
    expect(await open(handed)).toBe(200)
    expect(await open(root)).toBe(200) // and opens sam's server itself

    expect(
      await status('/groups/students/users', root, { method: 'DELETE', body: JSON.stringify({ users: ['sam'] }) }),
    ).toBe(200)
    await waitFor('the proxy to drop the grant', async () => (await open(tokens.tom)) === 403, { timeoutMs: 5000 })
    expect(await open(tokens.sam)).toBe(200)
    expect(
      await status('/groups/students/users', root, { method: 'POST', body: JSON.stringify({ users: ['sam'] }) }),
    ).toBe(200)
    await waitFor('the proxy to restore it', async () => (await open(tokens.tom)) === 200, { timeoutMs: 5000 })
  })

  it('a revoked token stops working at the proxy within a second', async () => {
    const r = await api('/users/sam/tokens', tokens.sam, { method: 'POST', body: JSON.stringify({}) })
    const t = await json(r)
    const open = async () =>
      (await fetch(`${c.url}/user/sam/`, { headers: { authorization: `token ${t.token}` }, redirect: 'manual' })).status
    await waitFor('the server', async () => (await open()) === 200)
    expect(await status(`/users/sam/tokens/${t.id}`, tokens.sam, { method: 'DELETE' })).toBe(204)
    const since = Date.now()
    await waitFor('revocation at the proxy', async () => (await open()) !== 200, { timeoutMs: 1000, intervalMs: 20 })
    expect(Date.now() - since).toBeLessThan(1000)
  })
})

describe('privilege boundaries', () => {
  it('a narrow token cannot mint a wider one, by the API or the token page', async () => {
    const narrow = await issue('zed', ['tokens!user=zed'])
    expect(await status('/users/zed/tokens', narrow, { method: 'POST', body: JSON.stringify({}) })).toBe(403)
    expect(
      await status('/users/zed/tokens', narrow, {
        method: 'POST',
        body: JSON.stringify({ scopes: ['access:servers!user=zed'] }),
      }),
    ).toBe(403)
    expect(
      await status('/users/zed/tokens', narrow, {
        method: 'POST',
        body: JSON.stringify({ scopes: ['read:tokens!user=zed'] }),
      }),
    ).toBe(201)
    // pages take the session cookie only: with a token the token page is for nobody
    const page = await fetch(`${c.url}/hub/token`, {
      method: 'POST',
      headers: {
        authorization: `token ${narrow}`,
        cookie: `edgehub-xsrf=${'A'.repeat(32)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `_xsrf=${'A'.repeat(32)}&scopes=`,
      redirect: 'manual',
    })
    expect(page.status).toBe(302)
    expect(page.headers.get('location')).toMatch(/^\/hub\/login/)
  })

  it('only admins make admins or change them', async () => {
    // reg holds admin:users over students (sam, sue)
    expect(await status('/users/sue', tokens.reg, { method: 'PATCH', body: JSON.stringify({ admin: true }) })).toBe(403)
    expect(await status('/users/sue', tokens.reg, { method: 'PATCH', body: JSON.stringify({}) })).toBe(200)
    expect((await json(await api('/users/sue', root))).admin).toBe(false)
  })

  it('a scope that cannot apply is a 400, not an error', async () => {
    const r = await api('/users/zed/tokens', tokens.zed, {
      method: 'POST',
      body: JSON.stringify({ scopes: ['access:servers!server'] }),
    })
    expect(r.status).toBe(400)
    expect((await json(r)).message).toMatch(/needs a value/)
  })
})
