// The users list and user model as JupyterHub's clients read them: GET /hub/api/users with
// name_filter (names containing it, ignoring case), state=active|inactive|ready and
// include_stopped_servers; auth_state in the model only for holders of admin:auth_state (null: no
// authenticator of this hub keeps one); and JupyterHub's spawn URL query options
// (/hub/spawn[/NAME/SERVER]?KEY=VALUE) becoming the server's user_options, opened by a person
// logged in through the form. All through the proxy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { ownToken, person, rootOf, serverRouted, startServer, stopServer, type Admin } from '../../support/people'

let stack: Stack
let root: Admin
const people: Record<string, Admin> = {}

const get = (path: string, token = root.token) =>
  fetch(`${stack.url}/hub/api${path}`, { headers: { authorization: `token ${token}` } })
/** The names GET /hub/api/users answers for this query, in its order. */
const listed = async (query: string, token = root.token): Promise<string[]> => {
  const res = await get(`/users?${query}`, token)
  expect(res.status).toBe(200)
  return ((await res.json()) as Array<{ name: string }>).map((u) => u.name)
}

beforeAll(async () => {
  stack = await startStack({ hub: { allowNamedServers: true }, spawner: okServerSpawner() })
  root = await rootOf(stack)
  // ann runs her default server; bob has a named server he started and stopped; annie and cat none
  for (const name of ['ann', 'bob', 'annie', 'cat']) people[name] = await person(root, name)
  await startServer(stack.url, people.ann.token, 'ann')
  await startServer(stack.url, people.bob.token, 'bob', { server: 'lab' })
  await stopServer(stack.url, people.bob.token, 'bob', 'lab')
}, 120_000)
afterAll(async () => {
  await stack?.stop()
}, 60_000)

describe('GET /hub/api/users?name_filter=', () => {
  it('keeps the names that contain it anywhere, ignoring case', async () => {
    expect(await listed('name_filter=ann')).toEqual(['ann', 'annie'])
    expect(await listed('name_filter=NIE')).toEqual(['annie']) // not only a prefix
    expect(await listed('name_filter=zz')).toEqual([])
    // the total of the page counts only the names kept
    const res = await fetch(`${stack.url}/hub/api/users?name_filter=an&limit=1`, {
      headers: { ...root.auth, accept: 'application/jupyterhub-pagination+json' },
    })
    const page = await json(res)
    expect(page.items.map((u: { name: string }) => u.name)).toEqual(['ann'])
    expect(page._pagination.total).toBe(2)
  })

  it('takes the filter as literal text, not a pattern', async () => {
    // JupyterHub passes it to SQL LIKE unescaped, where _ and % match any character; here they match themselves
    expect(await listed('name_filter=a_n')).toEqual([])
    expect(await listed('name_filter=%25')).toEqual([])
  })

  it('keeps within the names a filtered list:users lets the caller see', async () => {
    const { token } = await ownToken(root.client, 'root', {
      scopes: ['list:users!user=annie', 'read:users:name!user=annie'],
    })
    expect(await listed('name_filter=ann', token)).toEqual(['annie'])
  })
})

describe('GET /hub/api/users?state=', () => {
  it('active: users with a server running or in a start or stop; ready: with a server running', async () => {
    expect(await listed('state=active')).toEqual(['ann'])
    expect(await listed('state=ready')).toEqual(['ann'])
  })

  it('inactive: users with no active server, a stopped one included', async () => {
    // in name order, as every list here (docs/rest-api.md: sort=id is name order)
    expect(await listed('state=inactive')).toEqual(['annie', 'bob', 'cat', 'root'])
  })

  it('combines with name_filter, and refuses an unknown state with 400', async () => {
    expect(await listed('state=inactive&name_filter=ann')).toEqual(['annie'])
    const res = await get('/users?state=running')
    expect(res.status).toBe(400)
    expect((await json(res)).message).toMatch(/state must be one of active, ready, inactive/)
  })
})

describe('include_stopped_servers', () => {
  const bobOf = async (query: string) => (await json(await get(`/users?name_filter=bob${query}`)))[0]

  it('leaves stopped servers out of the servers dict unless asked for', async () => {
    expect((await bobOf('')).servers).toEqual({})
    expect((await bobOf('&include_stopped_servers=0')).servers).toEqual({})
    expect((await bobOf('&include_stopped_servers=false')).servers).toEqual({})
    expect((await json(await get('/users/bob'))).servers).toEqual({})
  })

  it('lists a stopped named server, with stopped: true, when asked for (with a value or none)', async () => {
    for (const q of ['&include_stopped_servers=1', '&include_stopped_servers', '&include_stopped_servers=True']) {
      const lab = (await bobOf(q)).servers.lab
      expect(lab).toMatchObject({
        name: 'lab',
        stopped: true,
        ready: false,
        pending: null,
        started: null,
        url: '/user/bob/lab/',
      })
    }
    const one = await json(await get('/users/bob?include_stopped_servers=1'))
    expect(Object.keys(one.servers)).toEqual(['lab'])
    // a running server is listed either way
    expect(Object.keys((await json(await get('/users/ann?include_stopped_servers'))).servers)).toEqual([''])
    expect(Object.keys((await json(await get('/users/ann'))).servers)).toEqual([''])
  })
})

describe('auth_state', () => {
  it('is in the model, null, for a holder of admin:auth_state (an admin)', async () => {
    const one = await json(await get('/users/ann'))
    expect(one).toHaveProperty('auth_state', null)
    const all = await json(await get('/users'))
    expect(all.length).toBeGreaterThan(1)
    for (const u of all) expect(u).toHaveProperty('auth_state', null)
  })

  it('is left out for a user, even their own, and for a token without the scope', async () => {
    expect(await json(await get('/users/ann', people.ann.token))).not.toHaveProperty('auth_state')
    expect(await json(await get('/user', people.ann.token))).not.toHaveProperty('auth_state')
    const { token } = await ownToken(root.client, 'root', { scopes: ['read:users', 'list:users'] })
    expect(await json(await get('/users/ann', token))).not.toHaveProperty('auth_state')
    for (const u of await json(await get('/users', token))) expect(u).not.toHaveProperty('auth_state')
  })

  it('needs a read scope beside admin:auth_state to read the user, and then shows only those fields', async () => {
    const only = await ownToken(root.client, 'root', { scopes: ['admin:auth_state'] })
    expect((await get('/users/ann', only.token)).status).toBe(403)
    const named = await ownToken(root.client, 'root', { scopes: ['read:users:name', 'admin:auth_state!user=ann'] })
    expect(await json(await get('/users/ann', named.token))).toEqual({
      kind: 'user',
      name: 'ann',
      admin: false,
      auth_state: null,
    })
    expect(await json(await get('/users/bob', named.token))).toEqual({ kind: 'user', name: 'bob', admin: false })
  })

  it('cannot be set through PATCH: 400 naming it', async () => {
    const res = await fetch(`${stack.url}/hub/api/users/cat`, {
      method: 'PATCH',
      headers: { ...root.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ auth_state: { k: 'v' } }),
    })
    expect(res.status).toBe(400)
    expect((await json(res)).message).toMatch(/^auth_state cannot be set/)
  })
})

describe('spawn URL query options', () => {
  const userOptions = async (name: string, server = '') =>
    (await json(await get(`/users/${name}?include_stopped_servers=1`))).servers[server]?.user_options

  it('?KEY=VALUE on /hub/spawn become user_options {KEY: [VALUE, ...]}, next left out', async () => {
    const annie = people.annie
    const res = await annie.client.get('/hub/spawn?image=scipy&tag=a&tag=b&next=%2Fhub%2Fhome')
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/hub/spawn-pending/annie?next=%2Fhub%2Fhome') // next goes on to the pending page
    await serverRouted(stack.url, annie.token, 'annie')
    expect(await userOptions('annie')).toEqual({ image: ['scipy'], tag: ['a', 'b'] })
    // opened again while running: no new start, the options stay, and next is followed
    const again = await annie.client.get('/hub/spawn?image=other&next=%2Fhub%2Fhome')
    expect(again.headers.get('location')).toMatch(/\/hub\/home$/)
    expect(await userOptions('annie')).toEqual({ image: ['scipy'], tag: ['a', 'b'] })
    await stopServer(stack.url, annie.token, 'annie')
  })

  it('the same on /hub/spawn/NAME, and on the form posted to /hub/spawn/NAME/SERVER; none reuse the recorded ones', async () => {
    const cat = people.cat
    const own = await cat.client.get('/hub/spawn/cat?size=small')
    expect(own.headers.get('location')).toBe('/hub/spawn-pending/cat')
    await serverRouted(stack.url, cat.token, 'cat')
    expect(await userOptions('cat')).toEqual({ size: ['small'] })

    // a named server starts from its page's form (a link alone does not start it); options in its URL apply
    const page = await cat.client.get('/hub/spawn/cat/gpu?size=large')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('method="post"')
    expect(await userOptions('cat', 'gpu')).toBeUndefined() // not started by the GET
    const posted = await cat.client.postForm('/hub/spawn/cat/gpu?size=large&next=%2Fuser%2Fcat%2Fgpu%2F', {})
    expect(posted.status).toBe(302)
    await serverRouted(stack.url, cat.token, 'cat', { server: 'gpu' })
    expect(await userOptions('cat', 'gpu')).toEqual({ size: ['large'] })
    // the start button of the page (no options) starts with the options recorded, as JupyterHub's spawn without query
    await stopServer(stack.url, cat.token, 'cat', 'gpu')
    const plain = await cat.client.postForm('/hub/spawn/cat/gpu?next=%2Fuser%2Fcat%2Fgpu%2F', {})
    expect(plain.status).toBe(302)
    await serverRouted(stack.url, cat.token, 'cat', { server: 'gpu' })
    expect(await userOptions('cat', 'gpu')).toEqual({ size: ['large'] })
    await stopServer(stack.url, cat.token, 'cat', 'gpu')
    // and the default server, from /hub/spawn with no query, the same; new options replace them
    await stopServer(stack.url, cat.token, 'cat')
    expect((await cat.client.get('/hub/spawn')).headers.get('location')).toBe('/hub/spawn-pending/cat')
    await serverRouted(stack.url, cat.token, 'cat')
    expect(await userOptions('cat')).toEqual({ size: ['small'] })
    await stopServer(stack.url, cat.token, 'cat')
    expect((await cat.client.get('/hub/spawn?size=medium')).headers.get('location')).toBe('/hub/spawn-pending/cat')
    await serverRouted(stack.url, cat.token, 'cat')
    expect(await userOptions('cat')).toEqual({ size: ['medium'] })
    await stopServer(stack.url, cat.token, 'cat')
  })
})
