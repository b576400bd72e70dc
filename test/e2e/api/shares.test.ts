// Sharing (JupyterHub 5) through the proxy: every /shares, /share-codes and .../shared endpoint with
// its status codes and models, who may share what, the accept-share page, bad input answered 400 with
// nothing changed, and the edge letting a user with a share (direct or through a group) into the
// shared server and shutting them out within a second of revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster, type Cluster } from '../../support/cluster'
import { Client, json } from '../../support/client'
import { freePort } from '../../../runtime/src/ports'
import { waitFor } from '../../../runtime/src/wait'
import { okServerSpawner } from '../../support/servers'
import { addUser, logIn, person, rootOf } from '../../support/people'

let c: Cluster
const tok: Record<string, string> = {}

type Init = { method?: string; body?: unknown; raw?: string }
const call = (path: string, token: string | undefined, o: Init = {}) =>
  fetch(`${c.url}/hub/api${path}`, {
    method: o.method ?? 'GET',
    headers: { ...(token ? { authorization: `token ${token}` } : {}), 'content-type': 'application/json' },
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  })
const status = async (path: string, token: string | undefined, o: Init = {}) => {
  const r = await call(path, token, o)
  await r.body?.cancel()
  return r.status
}
const ok = async (path: string, token: string, o: Init = {}, code = 200) => {
  const r = await call(path, token, o)
  const body = r.status === 204 ? null : await json(r)
  expect(r.status, `${o.method ?? 'GET'} ${path}: ${JSON.stringify(body)}`).toBe(code)
  return body
}
/** Status of GET path through the proxy with a token. */
const open = async (path: string, token: string) => {
  const r = await fetch(`${c.url}${path}`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })
  await r.body?.cancel()
  return r.status
}
// the proxy's own access table (what the edge lets a user into): read from the state the proxy syncs
const edgeServers = async (user: string) =>
  (await c.tables.get<{ grants: { server?: string[] } }>('access', user))?.grants.server ?? []
/** A new browser session of the user's, from the login form. */
const browser = (user: string) => logIn(c.url, user, `${user}-password`)
/** A token of alice's own with just these scopes (POST /users/alice/tokens with her full token). */
const aliceToken = async (scopes: string[]) =>
  (await ok('/users/alice/tokens', tok.alice, { method: 'POST', body: { scopes } }, 201)).token as string

beforeAll(async () => {
  c = await startCluster({
    hubs: 1,
    proxies: 1,
    haproxy: false,
    overrides: {
      hub: { allowNamedServers: true },
      // admins without access:servers (JupyterHub's admin role has it; the matrix below checks what
      // an admin may do with shares without it, and the last case with it)
      proxy: { adminAccess: false },
      // JupyterHub's recipe for the full sharing API: every user may share their own servers, with
      // anyone they can name
      roles: [{ name: 'user', scopes: ['self', 'shares!user', 'read:users:name', 'read:groups:name'] }],
      spawner: okServerSpawner(),
    },
  })
  // root with the CLI; the others added by root on the admin page, each with a full token from their
  // own login session (frank, who needs none, through the API); the group through the API
  const root = await rootOf(c)
  tok.root = root.token
  for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'gina']) tok[u] = (await person(root, u)).token
  await addUser(root, 'frank')
  await ok('/groups/team', tok.root, { method: 'POST', body: { users: ['dave'] } }, 201)
  expect(await status('/users/alice/server', tok.alice, { method: 'POST' })).toBe(201)
  expect(await status('/users/alice/servers/lab', tok.alice, { method: 'POST' })).toBe(201)
  await waitFor('alice/ through the proxy', async () => (await open('/user/alice/', tok.alice)) === 200)
  await waitFor('alice/lab through the proxy', async () => (await open('/user/alice/lab/', tok.alice)) === 200)
}, 90_000)
afterAll(async () => c?.stop(), 60_000)

describe('POST, PATCH and DELETE /hub/api/shares/{owner}/{server}', () => {
  it('the owner shares a server with a user, who then opens it through the proxy; revocation shuts them out within a second', async () => {
    const share = await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'bob' } })
    expect(share).toEqual({
      server: { name: '', user: { name: 'alice' }, url: '/user/alice/', full_url: null, ready: true },
      scopes: ['access:servers!server=alice/'],
      user: { name: 'bob' },
      group: null,
      kind: 'user',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect((await ok('/user', tok.bob)).scopes).toContain('access:servers!server=alice/')
    await waitFor('bob let into alice/', async () => (await open('/user/alice/', tok.bob)) === 200, { timeoutMs: 2000 })
    expect(await open('/user/alice/lab/', tok.bob)).toBe(403) // one server, not the user's others
    expect(await open('/user/alice/', tok.carol)).toBe(403)

    expect(await ok('/shares/alice/', tok.alice, { method: 'PATCH', body: { user: 'bob' } })).toEqual({})
    const since = Date.now()
    await waitFor('bob shut out', async () => (await open('/user/alice/', tok.bob)) === 403, {
      timeoutMs: 1000,
      intervalMs: 20,
    })
    expect(Date.now() - since).toBeLessThan(1000)
    expect((await ok('/user', tok.bob)).scopes).not.toContain('access:servers!server=alice/')
  })

  it('granting again keeps the share as it was; PATCH of a scope not held changes nothing', async () => {
    const first = await ok('/shares/alice/lab', tok.alice, {
      method: 'POST',
      body: { user: 'bob', scopes: ['access:servers'] },
    })
    expect(first.scopes).toEqual(['access:servers!server=alice/lab'])
    expect(first.server).toMatchObject({ name: 'lab', url: '/user/alice/lab/', ready: true })
    const again = await ok('/shares/alice/lab', tok.alice, {
      method: 'POST',
      body: { user: 'bob', scopes: ['access:servers!server=alice/lab'] },
    })
    expect(again).toEqual(first)
    const other = await ok('/shares/alice/lab', tok.alice, { method: 'PATCH', body: { user: 'carol' } })
    expect(other).toEqual({}) // carol had none: nothing to revoke
    expect(await ok('/shares/alice/lab', tok.alice, { method: 'PATCH', body: { user: 'nobody-at-all' } })).toEqual({})
    expect(
      await ok('/shares/alice/lab', tok.alice, { method: 'PATCH', body: { user: 'bob', scopes: ['access:servers'] } }),
    ).toEqual({})
    expect((await ok('/shares/alice/lab', tok.alice)).items).toEqual([])
  })

  it('DELETE revokes every share of the server, and no other', async () => {
    await ok('/shares/alice/lab', tok.alice, { method: 'POST', body: { user: 'bob' } })
    await ok('/shares/alice/lab', tok.alice, { method: 'POST', body: { user: 'carol' } })
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'carol' } })
    await waitFor('carol let in', async () => (await open('/user/alice/lab/', tok.carol)) === 200)
    expect(await ok('/shares/alice/lab', tok.alice, { method: 'DELETE' }, 204)).toBeNull()
    expect((await ok('/shares/alice/lab', tok.alice)).items).toEqual([])
    expect((await ok('/shares/alice/', tok.alice)).items.map((s: { user: { name: string } }) => s.user.name)).toEqual([
      'carol',
    ])
    await waitFor('carol shut out of lab', async () => (await open('/user/alice/lab/', tok.carol)) === 403, {
      timeoutMs: 1000,
    })
    expect(await open('/user/alice/', tok.carol)).toBe(200)
    expect(await status('/shares/alice/', tok.alice, { method: 'DELETE' })).toBe(204)
    expect(await status('/shares/alice/nosuch', tok.alice, { method: 'DELETE' })).toBe(404)
  })

  it('lists by owner and by server in the pagination envelope', async () => {
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'bob' } })
    await ok('/shares/alice/lab', tok.alice, { method: 'POST', body: { user: 'carol' } })
    const all = await ok('/shares/alice', tok.alice)
    expect(all._pagination).toEqual({ offset: 0, limit: 50, total: 2, next: null })
    expect(
      all.items.map((s: { server: { name: string }; user: { name: string } }) => `${s.server.name}:${s.user.name}`),
    ).toEqual([':bob', 'lab:carol'])
    const first = await ok('/shares/alice?limit=1', tok.alice)
    expect(first.items).toHaveLength(1)
    expect(first._pagination).toMatchObject({
      offset: 0,
      limit: 1,
      total: 2,
      next: { offset: 1, limit: 1, url: expect.stringContaining('/hub/api/shares/alice?') },
    })
    expect((await ok('/shares/alice?offset=1&limit=1', tok.alice)).items[0].user).toEqual({ name: 'carol' })
    expect((await ok('/shares/alice/lab', tok.alice)).items).toHaveLength(1)
    expect(await status('/shares/nobody', tok.root)).toBe(404)
    expect(await status('/shares/alice/nosuch', tok.alice)).toBe(404)
    expect(await status('/shares/alice', tok.alice, { method: 'POST', body: { user: 'bob' } })).toBe(405)
    await ok('/shares/alice/', tok.alice, { method: 'DELETE' }, 204)
    await ok('/shares/alice/lab', tok.alice, { method: 'DELETE' }, 204)
  })
})

describe('who may share', () => {
  it('each caller may call exactly what its scopes allow', async () => {
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'bob' } })
    const narrow = {
      readOnly: await aliceToken(['read:shares!user=alice']),
      nothing: await aliceToken(['(no_scope)']),
      codesOnly: await aliceToken(['shares!server=alice/lab']),
    }
    const t: Record<string, string> = { ...tok, ...narrow, anonymous: '' }
    const matrix: Array<[string, string, string, unknown, number]> = [
      // the owner, through `shares!user` in the configured user role
      ['alice', 'GET', '/shares/alice', undefined, 200],
      ['alice', 'GET', '/shares/alice/', undefined, 200],
      ['alice', 'GET', '/share-codes/alice', undefined, 200],
      ['alice', 'GET', '/share-codes/alice/lab', undefined, 200],
      // another user: alice's shares look missing (filtered scopes), as in JupyterHub
      ['bob', 'GET', '/shares/alice', undefined, 404],
      ['bob', 'POST', '/shares/alice/', { user: 'carol' }, 404],
      ['bob', 'PATCH', '/shares/alice/', { user: 'bob' }, 404],
      ['bob', 'DELETE', '/shares/alice/', undefined, 404],
      ['bob', 'POST', '/share-codes/alice/', {}, 404],
      ['bob', 'GET', '/users/bob/shared', undefined, 200],
      ['bob', 'GET', '/users/bob/shared/alice/', undefined, 200],
      ['bob', 'GET', '/users/carol/shared', undefined, 404],
      // members do not read their group's shares: `shares!user=dave` holds groups:shares for no group
      ['dave', 'GET', '/groups/team/shared', undefined, 404],
      ['dave', 'DELETE', '/groups/team/shared/alice/lab', undefined, 404],
      // an admin manages and reads shares, but without proxy.adminAccess holds no access:servers to hand on
      ['root', 'GET', '/shares/alice', undefined, 200],
      ['root', 'GET', '/users/bob/shared', undefined, 200],
      ['root', 'GET', '/groups/team/shared', undefined, 200],
      ['root', 'POST', '/shares/alice/', { user: 'carol' }, 403],
      ['root', 'POST', '/share-codes/alice/', {}, 403],
      ['root', 'PATCH', '/shares/alice/lab', { user: 'carol' }, 200],
      // tokens narrower than their owner
      ['readOnly', 'GET', '/shares/alice', undefined, 200],
      ['readOnly', 'POST', '/shares/alice/', { user: 'carol' }, 403],
      ['codesOnly', 'POST', '/shares/alice/', { user: 'carol' }, 404],
      ['codesOnly', 'GET', '/share-codes/alice/lab', undefined, 200],
      ['nothing', 'GET', '/shares/alice', undefined, 403],
      ['nothing', 'GET', '/users/alice/shared', undefined, 403],
      ['anonymous', 'GET', '/shares/alice', undefined, 403],
    ]
    for (const [who, method, path, body, code] of matrix) {
      expect(await status(path, t[who] || undefined, { method, body }), `${who} ${method} ${path}`).toBe(code)
    }
    expect(await json(await call('/shares/alice/', tok.root, { method: 'POST', body: { user: 'carol' } }))).toEqual({
      status: 403,
      message: 'Do not have permission to grant share with scope access:servers!server=alice/',
    })
    expect(await json(await call('/shares/alice/', undefined))).toEqual({
      status: 403,
      message: 'Missing or invalid credentials.',
    })
    await ok('/shares/alice/', tok.alice, { method: 'DELETE' }, 204)
  })

  it('without read:users:name a user may share by code only', async () => {
    const quiet = await aliceToken(['shares!user=alice'])
    expect(await json(await call('/shares/alice/', quiet, { method: 'POST', body: { user: 'bob' } }))).toEqual({
      status: 403,
      message: "Need scope 'read:users:name' to share with users by name",
    })
    expect(await status('/shares/alice/', quiet, { method: 'POST', body: { group: 'team' } })).toBe(403)
    const code = await ok('/share-codes/alice/', quiet, { method: 'POST', body: {} })
    expect(await status(`/share-codes/alice/?id=${code.id}`, quiet, { method: 'DELETE' })).toBe(204)
  })

  it('an admin with proxy.adminAccess may share any server', async () => {
    // the same state, served by a second replica whose config gives admins access:servers
    const port = await freePort()
    await c.startHub(1, { port, settings: { proxy: { adminAccess: true } } })
    const r = await fetch(`http://127.0.0.1:${port}/hub/api/shares/alice/lab`, {
      method: 'POST',
      headers: { authorization: `token ${tok.root}` },
      body: JSON.stringify({ user: 'carol' }),
    })
    const body = await json(r)
    await c.killHub(1, 'SIGTERM')
    expect(r.status).toBe(200)
    expect(body.user).toEqual({ name: 'carol' })
    await waitFor('carol let into alice/lab', async () => (await open('/user/alice/lab/', tok.carol)) === 200)
    await ok('/shares/alice/lab', tok.root, { method: 'DELETE' }, 204)
    await waitFor('carol shut out', async () => (await open('/user/alice/lab/', tok.carol)) === 403, {
      timeoutMs: 1000,
    })
  })
})

describe('group shares', () => {
  it('let every member in, and follow membership changes', async () => {
    const share = await ok('/shares/alice/lab', tok.alice, { method: 'POST', body: { group: 'team' } })
    expect(share).toMatchObject({
      user: null,
      group: { name: 'team' },
      kind: 'group',
      scopes: ['access:servers!server=alice/lab'],
    })
    await waitFor('dave let in', async () => (await open('/user/alice/lab/', tok.dave)) === 200, { timeoutMs: 2000 })
    expect(await open('/user/alice/lab/', tok.erin)).toBe(403)
    expect((await ok('/user', tok.dave)).scopes).toContain('access:servers!server=alice/lab')

    expect((await ok('/groups/team/shared', tok.root)).items).toEqual([share])
    expect(await ok('/groups/team/shared/alice/lab', tok.root)).toEqual(share)
    expect((await ok('/users/dave/shared', tok.dave)).items).toEqual([share]) // through the group
    expect(await status('/users/dave/shared/alice/lab', tok.dave)).toBe(404) // no share of dave's own
    expect(await status('/groups/nosuch/shared', tok.root)).toBe(404)

    await ok('/groups/team/users', tok.root, { method: 'POST', body: { users: ['erin'] } })
    await waitFor('erin let in', async () => (await open('/user/alice/lab/', tok.erin)) === 200, { timeoutMs: 2000 })
    await ok('/groups/team/users', tok.root, { method: 'DELETE', body: { users: ['dave'] } })
    await waitFor('dave shut out', async () => (await open('/user/alice/lab/', tok.dave)) === 403, { timeoutMs: 1000 })

    // the group leaves the share
    expect(await ok('/groups/team/shared/alice/lab', tok.root, { method: 'DELETE' }, 204)).toBeNull()
    await waitFor('erin shut out', async () => (await open('/user/alice/lab/', tok.erin)) === 403, { timeoutMs: 1000 })
    expect(await status('/groups/team/shared/alice/lab', tok.root)).toBe(404)
    await ok('/groups/team/users', tok.root, { method: 'DELETE', body: { users: ['erin'] } })
  })
})

describe('GET and DELETE /hub/api/users/{name}/shared/{owner}/{server}', () => {
  it('a user reads a share of their own and leaves it', async () => {
    const share = await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'carol' } })
    expect(await ok('/users/carol/shared/alice/', tok.carol)).toEqual(share)
    expect((await ok('/users/carol/shared', tok.carol)).items).toEqual([share])
    await waitFor('carol let in', async () => (await open('/user/alice/', tok.carol)) === 200)
    expect(await ok('/users/carol/shared/alice/', tok.carol, { method: 'DELETE' }, 204)).toBeNull()
    await waitFor('carol shut out', async () => (await open('/user/alice/', tok.carol)) === 403, { timeoutMs: 1000 })
    expect(await status('/users/carol/shared/alice/', tok.carol)).toBe(404)
    expect(await status('/users/carol/shared/alice/', tok.carol, { method: 'DELETE' })).toBe(404)
    expect((await ok('/shares/alice/', tok.alice)).items).toEqual([])
  })
})

describe('share codes and /hub/accept-share', () => {
  it('issues a code, lists it without the code, and a logged-in user accepts it and gets in', async () => {
    const made = await ok('/share-codes/alice/', tok.alice, { method: 'POST', body: { expires_in: 3600 } })
    expect(made).toEqual({
      server: { name: '', user: { name: 'alice' }, url: '/user/alice/', full_url: null, ready: true },
      scopes: ['access:servers!server=alice/'],
      id: expect.stringMatching(/^sc_\d+$/),
      created_at: expect.any(String),
      expires_at: expect.any(String),
      exchange_count: 0,
      last_exchanged_at: null,
      code: expect.stringMatching(/^[\w-]{40,}$/),
      accept_url: `/hub/accept-share?code=${made.code}`,
      full_accept_url: null,
    })
    expect(Math.abs(Date.parse(made.expires_at) - Date.now() - 3600_000)).toBeLessThan(60_000)
    const { code: _, accept_url: __, full_accept_url: ___, ...stored } = made
    expect((await ok('/share-codes/alice/', tok.alice)).items).toEqual([stored])
    expect((await ok('/share-codes/alice', tok.alice)).items).toEqual([stored])

    // anonymous: to the login page, coming back here
    const anon = await new Client(c.url).get(made.accept_url)
    expect(anon.status).toBe(302)
    expect(anon.headers.get('location')).toBe(`/hub/login?next=${encodeURIComponent(made.accept_url)}`)

    const erin = await browser('erin')
    const page = await erin.get(made.accept_url)
    expect(page.status).toBe(200)
    // the code is in the page's URL and form: no cache keeps it, no referrer carries it away
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await page.text()
    expect(html).toContain('Accept sharing invitation')
    expect(html).toContain('<strong>alice</strong>')
    expect(html).not.toContain('id="not-running"')
    // no XSRF field: refused, nothing shared
    const forged = await erin.request('/hub/accept-share', {
      method: 'POST',
      body: new URLSearchParams({ code: made.code }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(forged.status).toBe(403)
    expect(await edgeServers('erin')).not.toContain('alice/')

    const accepted = await erin.postForm('/hub/accept-share', { code: made.code })
    expect(accepted.status).toBe(302)
    expect(accepted.headers.get('location')).toBe('/user/alice/')
    await waitFor('erin let in by cookie', async () => (await erin.get('/user/alice/')).status === 200, {
      timeoutMs: 2000,
    })
    const listed = (await ok('/share-codes/alice/', tok.alice)).items[0]
    expect(listed).toMatchObject({ id: made.id, exchange_count: 1, last_exchanged_at: expect.any(String) })
    expect(
      (await ok('/users/erin/shared', tok.root)).items.map((s: { server: { url: string } }) => s.server.url),
    ).toEqual(['/user/alice/'])

    // the owner cannot accept their own code
    const own = await (await browser('alice')).get(made.accept_url)
    expect(own.status).toBe(403)
    expect(await own.text()).toContain('share with yourself')

    // revoked by id: the link no longer works, the share it made stays
    expect(await status(`/share-codes/alice/?id=${made.id}`, tok.alice, { method: 'DELETE' })).toBe(204)
    const gone = await erin.get(made.accept_url)
    expect(gone.status).toBe(404)
    expect(await gone.text()).toContain('unknown or has expired')
    expect(await erin.postForm('/hub/accept-share', { code: made.code }).then((r) => r.status)).toBe(400)
    expect(await edgeServers('erin')).toContain('alice/')
    await ok('/shares/alice/', tok.alice, { method: 'PATCH', body: { user: 'erin' } })
  })

  it('revokes codes by code, by id or all at once', async () => {
    const a = await ok('/share-codes/alice/lab', tok.alice, { method: 'POST', body: {} })
    const b = await ok('/share-codes/alice/lab', tok.alice, {
      method: 'POST',
      body: { scopes: ['access:servers!server=alice/lab'] },
    })
    const d = await ok('/share-codes/alice/', tok.alice, { method: 'POST', body: {} })
    expect(Math.abs(Date.parse(a.expires_at) - Date.now() - 86_400_000)).toBeLessThan(60_000) // one day by default
    expect(await status(`/share-codes/alice/?code=${a.code}`, tok.alice, { method: 'DELETE' })).toBe(404) // another server's
    expect(await status(`/share-codes/alice/lab?code=${a.code}`, tok.alice, { method: 'DELETE' })).toBe(204)
    expect(await status('/share-codes/alice/lab?id=sc_999999', tok.alice, { method: 'DELETE' })).toBe(404)
    expect(await status('/share-codes/alice/lab?id=nonsense', tok.alice, { method: 'DELETE' })).toBe(404)
    expect((await ok('/share-codes/alice/lab', tok.alice)).items.map((x: { id: string }) => x.id)).toEqual([b.id])
    expect(await status('/share-codes/alice/lab', tok.alice, { method: 'DELETE' })).toBe(204)
    expect((await ok('/share-codes/alice/lab', tok.alice)).items).toEqual([])
    expect((await ok('/share-codes/alice', tok.alice)).items.map((x: { id: string }) => x.id)).toEqual([d.id])
    expect(await status('/share-codes/alice', tok.alice, { method: 'DELETE' })).toBe(405)
    expect(await status('/share-codes/alice/nosuch', tok.alice, { method: 'POST', body: {} })).toBe(404)
    expect(await status('/share-codes/nobody', tok.root)).toBe(404)
    await ok('/share-codes/alice/', tok.alice, { method: 'DELETE' }, 204)
  })

  it('refuses an expired code', async () => {
    const made = await ok('/share-codes/alice/', tok.alice, { method: 'POST', body: { expires_in: 60 } })
    // no product path makes a code expire sooner than 60 s: its stored expiry is moved into the past
    await c.state.hset(c.keys.shareCode(made.id), 'expires_at', new Date(Date.now() - 1000).toISOString())
    const gina = await browser('gina')
    const page = await gina.get(made.accept_url)
    expect(page.status).toBe(404)
    expect(await page.text()).toContain('unknown or has expired')
    expect((await gina.postForm('/hub/accept-share', { code: made.code })).status).toBe(400)
    expect(await gina.get('/hub/accept-share').then((r) => r.status)).toBe(400) // no code at all
    expect((await ok('/share-codes/alice/', tok.alice)).items).toEqual([])
    expect((await ok('/users/gina/shared', tok.gina)).items).toEqual([])
    expect(await open('/user/alice/', tok.gina)).toBe(403)
  })
})

describe('bad input', () => {
  it('is answered 400 with a message, and changes nothing', async () => {
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'bob' } })
    const before = [await ok('/shares/alice', tok.alice), await ok('/share-codes/alice', tok.alice)]
    const cases: Array<[string, string, Init['body'] | string, RegExp]> = [
      ['POST', '/shares/alice/', {}, /exactly one of `user` or `group`/],
      ['POST', '/shares/alice/', { user: 'bob', group: 'team' }, /not both/],
      ['POST', '/shares/alice/', { user: 'ghost' }, /No such user: ghost/],
      ['POST', '/shares/alice/', { group: 'ghosts' }, /No such group: ghosts/],
      ['POST', '/shares/alice/', { user: 'alice' }, /owner/],
      ['POST', '/shares/alice/', { user: 5 }, /user must be a string/],
      ['POST', '/shares/alice/', { user: 'carol', scopes: 'access:servers' }, /scopes must be a list of strings/],
      ['POST', '/shares/alice/', { user: 'carol', scopes: ['read:everything'] }, /unknown scope/],
      [
        'POST',
        '/shares/alice/',
        { user: 'carol', scopes: ['access:servers!server=alice/lab'] },
        /not allowed on sharing/,
      ],
      ['POST', '/shares/alice/', { user: 'carol', scopes: ['access:servers!user=alice'] }, /not allowed on sharing/],
      ['POST', '/shares/alice/', { user: 'carol', scopes: ['read:users'] }, /only access:servers can be shared/],
      ['POST', '/shares/alice/', { user: 'carol', colour: 'blue' }, /unknown field: colour/],
      ['POST', '/shares/alice/', 'not json', /not valid JSON/],
      ['POST', '/shares/alice/', [1, 2], /JSON object/],
      ['PATCH', '/shares/alice/', {}, /exactly one of `user` or `group`/],
      ['PATCH', '/shares/alice/', { user: 'bob', scopes: ['nope'] }, /unknown scope/],
      ['POST', '/share-codes/alice/', { expires_in: 10 }, /expires_in must be a whole number of seconds from 60/],
      ['POST', '/share-codes/alice/', { expires_in: 60.5 }, /expires_in/],
      ['POST', '/share-codes/alice/', { expires_in: 'soon' }, /expires_in must be a number/],
      ['POST', '/share-codes/alice/', { scopes: ['tokens'] }, /only access:servers/],
      ['POST', '/share-codes/alice/', { user: 'bob' }, /unknown field: user/],
    ]
    for (const [method, path, body, message] of cases) {
      const r = await call(path, tok.alice, typeof body === 'string' ? { method, raw: body } : { method, body })
      const b = await json(r)
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(b)}`).toBe(400)
      expect(b).toEqual({ status: 400, message: expect.stringMatching(message) })
    }
    expect(await status('/shares/alice/nosuch', tok.alice, { method: 'POST', body: { user: 'bob' } })).toBe(404)
    expect([await ok('/shares/alice', tok.alice), await ok('/share-codes/alice', tok.alice)]).toEqual(before)
    await ok('/shares/alice/', tok.alice, { method: 'DELETE' }, 204)
  })
})

describe('removing servers and users', () => {
  it('removing a server through the API drops its shares and codes, and the edge follows', async () => {
    expect(await status('/users/alice/servers/tmp', tok.alice, { method: 'POST' })).toBe(201)
    await ok('/shares/alice/tmp', tok.alice, { method: 'POST', body: { user: 'bob' } })
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'bob' } })
    await ok('/share-codes/alice/tmp', tok.alice, { method: 'POST', body: {} })
    expect(await edgeServers('bob')).toEqual(['alice/', 'alice/tmp'])
    expect(await status('/users/alice/servers/tmp', tok.alice, { method: 'DELETE', body: { remove: true } })).toBe(204)
    expect(await edgeServers('bob')).toEqual(['alice/'])
    expect(
      (await ok('/shares/alice', tok.alice)).items.map((s: { server: { name: string } }) => s.server.name),
    ).toEqual([''])
    expect((await ok('/share-codes/alice', tok.alice)).items).toEqual([])
    expect(await status('/shares/alice/tmp', tok.alice, { method: 'POST', body: { user: 'bob' } })).toBe(404)
    // a hub starting up on other roles than those the entries were written with (their digest, gone
    // here) writes every access entry again, shares included
    await c.tables.del('access', 'bob')
    await c.state.del(c.keys.rolesDigest)
    await c.killHub(0, 'SIGTERM')
    await c.startHub(0)
    expect(await edgeServers('bob')).toEqual(['alice/'])
    await ok('/shares/alice/', tok.alice, { method: 'DELETE' }, 204)
  })

  it('deleting a user drops the shares of their servers and those granted to them', async () => {
    await ok('/shares/alice/', tok.alice, { method: 'POST', body: { user: 'frank' } })
    await ok('/shares/gina/', tok.gina, { method: 'POST', body: { user: 'bob' } }) // gina's default server: no record needed
    await ok('/share-codes/gina/', tok.gina, { method: 'POST', body: {} })
    expect(await edgeServers('bob')).toEqual(['gina/'])
    expect(await status('/users/frank', tok.root, { method: 'DELETE' })).toBe(204)
    expect(await status('/users/gina', tok.root, { method: 'DELETE' })).toBe(204)
    expect((await ok('/shares/alice', tok.alice)).items).toEqual([])
    expect((await ok('/users/bob/shared', tok.bob)).items).toEqual([])
    expect(await c.tables.get('access', 'bob')).toBeUndefined()
    expect(
      await c.state.exists(c.keys.shares('gina'), c.keys.sharedWith('user', 'frank'), c.keys.shareCodes('gina')),
    ).toBe(0)
  })
})
