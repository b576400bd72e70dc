// JupyterHub's default roles and token rules through the real stack, with default settings: an
// admin acts for users (tokens for them, their servers), a token asks for exactly the scopes it names
// (none for `[]`, the owner's for none named) and never more than its owner holds; token and
// identity models, /info, activity for a server that never started, and OAuth's login-first order.
// A second hub with proxy.adminAccess: false keeps admins out of users' servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { Client, json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { addUser, issuedToken, person, rootOf, startServer, type Admin } from '../../support/people'
import { waitFor } from '../../../runtime/src/wait'

let hub: Stack // default settings
let weak: Stack // proxy.adminAccess: false
let root: Admin // hub's first admin (the CLI, then the login form)
let ann: Admin // a user with a password and a session

const call = (base: string, path: string, token: string, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${base}/hub/api${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
const open = async (base: string, path: string, token: string) => {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `token ${token}` }, redirect: 'manual' })
  await r.body?.cancel()
  return r.status
}
const newToken = async (user: string, token: string, body: unknown) => {
  const r = await call(hub.url, `/users/${user}/tokens`, token, { method: 'POST', body })
  expect(r.status, JSON.stringify(body)).toBe(201)
  return json(r)
}

beforeAll(async () => {
  ;[hub, weak] = await Promise.all([
    startStack({ spawner: okServerSpawner() }),
    startStack({ spawner: okServerSpawner(), proxy: { adminAccess: false } }),
  ])
  root = await rootOf(hub)
  ann = await person(root, 'ann')
}, 90_000)
afterAll(async () => Promise.all([hub?.stop(), weak?.stop()]), 60_000)

describe('admins act for users (default settings)', () => {
  it("an admin's token from the token page issues a token for a user, which starts and opens that user's server", async () => {
    // where an admin starts: the token page of their own login
    const page = await (await root.client.postForm('/hub/token', { note: 'admin script' })).text()
    const adminToken = page.match(/id="new-token">([^<]+)</)?.[1]
    expect(adminToken).toMatch(/^\S{20,}$/)
    await addUser(root, 'bea') // no password: she never logged in
    const t = await newToken('bea', adminToken!, {})
    expect(t).toMatchObject({ kind: 'api_token', user: 'bea', note: 'Requested via api by user root', roles: [] })
    expect(t).not.toHaveProperty('service')
    // the user's full permissions (the `token` role's inherit): her own servers among them
    expect(t.scopes).toEqual(expect.arrayContaining(['servers!user=bea', 'access:servers!user=bea', 'tokens!user=bea']))
    await startServer(hub.url, t.token, 'bea')
    expect(await open(hub.url, '/user/bea/', t.token)).toBe(200)
    // the admin opens it too, and shares it with another user (as JupyterHub's admin role may)
    expect(await open(hub.url, '/user/bea/', adminToken!)).toBe(200)
    expect(await open(hub.url, '/user/bea/', ann.token)).toBe(403)
    const shared = await call(hub.url, '/shares/bea/', adminToken!, { method: 'POST', body: { user: 'ann' } })
    expect(shared.status).toBe(200)
    await waitFor('the share at the proxy', async () => (await open(hub.url, '/user/bea/', ann.token)) === 200, {
      timeoutMs: 5000,
    })
  })

  it('the same with a token issued by the CLI, and a narrower one', async () => {
    const cliToken = issuedToken(hub, 'root')
    const t = await newToken('ann', cliToken, {
      scopes: ['read:users!user=ann', 'servers!user=ann'],
      note: 'culler setup',
    })
    expect(t.scopes).toEqual(expect.arrayContaining(['read:users!user=ann', 'start:servers!user=ann']))
    expect((await call(hub.url, '/users/ann', t.token)).status).toBe(200)
  })
})

describe('token scopes as JupyterHub reads them', () => {
  it('"scopes": [] is a token with no scopes: it identifies its owner and nothing else', async () => {
    const t = await newToken('ann', ann.token, { scopes: [] })
    expect(t.scopes).toEqual([])
    const me = await json(await call(hub.url, '/user', t.token))
    expect(me).toMatchObject({ kind: 'user', name: 'ann', scopes: [], token_id: t.id })
    expect((await call(hub.url, '/users/ann', t.token)).status).toBe(403)
    expect((await call(hub.url, '/users/ann/tokens', t.token)).status).toBe(403)
    // `roles: []` is the same
    expect((await newToken('ann', ann.token, { roles: [] })).scopes).toEqual([])
  })

  it("no scopes named: the owner's permissions (the token role's inherit), now and as they change", async () => {
    const t = await newToken('ann', ann.token, { note: 'full' })
    const own = await json(await call(hub.url, '/user', ann.token))
    expect(t.scopes).toEqual(own.scopes)
    expect(t.scopes).toContain('tokens!user=ann')
  })

  it('scopes the owner does not hold are refused with 400 naming them, not quietly narrowed; nothing is stored', async () => {
    const before = (await json(await call(hub.url, '/users/ann/tokens', ann.token))).api_tokens.length
    // even an admin asking for ann: the token would hold what ann does not
    for (const token of [ann.token, root.token]) {
      const r = await call(hub.url, '/users/ann/tokens', token, {
        method: 'POST',
        body: { scopes: ['read:users!user=ann', 'read:hub'] },
      })
      expect(r.status).toBe(400)
      expect(await json(r)).toEqual({
        status: 400,
        message: 'Not assigning requested scopes read:hub not held by User ann',
      })
    }
    expect((await json(await call(hub.url, '/users/ann/tokens', ann.token))).api_tokens.length).toBe(before)
    // a token narrower than its owner still cannot mint a wider one (edgehub's own check): 403
    const narrow = (await newToken('ann', ann.token, { scopes: ['tokens!user=ann'] })).token
    const r = await call(hub.url, '/users/ann/tokens', narrow, {
      method: 'POST',
      body: { scopes: ['servers!user=ann'] },
    })
    expect(r.status).toBe(403)
    expect((await json(r)).message).toMatch(/not held by ann$/)
  })
})

describe('models', () => {
  it('GET /user carries token_id with a token and null with a browser session', async () => {
    const t = await newToken('ann', ann.token, { scopes: ['read:users!user=ann'] })
    expect((await json(await call(hub.url, '/user', t.token))).token_id).toBe(t.id)
    const viaCookie = await json(await ann.client.api('GET', '/user'))
    expect(viaCookie).toMatchObject({ name: 'ann', token_id: null })
    expect(viaCookie.session_id).toEqual(expect.any(String))
    // the id revokes it
    expect((await call(hub.url, `/users/ann/tokens/${t.id}`, ann.token, { method: 'DELETE' })).status).toBe(204)
  })

  it('lists user tokens without a service key', async () => {
    const list = await json(await call(hub.url, '/users/ann/tokens', ann.token))
    expect(list.api_tokens.length).toBeGreaterThan(0)
    for (const t of list.api_tokens) {
      expect(t).not.toHaveProperty('service')
      expect(t.user).toBe('ann')
    }
  })

  it('GET /info has python as a string', async () => {
    const info = await json(await call(hub.url, '/info', root.token))
    expect(typeof info.python).toBe('string')
    expect(info.python).toMatch(/^Node\.js /)
  })
})

describe('activity', () => {
  it("accepts activity for a default server that never started, raising the user's last_activity", async () => {
    await addUser(root, 'cat')
    expect((await json(await call(hub.url, '/users/cat', root.token))).last_activity).toBeNull()
    const at = new Date(Date.now() - 60_000).toISOString()
    const r = await call(hub.url, '/users/cat/activity', root.token, {
      method: 'POST',
      body: { servers: { '': { last_activity: at } } },
    })
    expect(r.status).toBe(200)
    const model = await json(await call(hub.url, '/users/cat', root.token))
    expect(Date.parse(model.last_activity)).toBe(Date.parse(at))
    expect(model.servers).toEqual({}) // still never started
    // a named server that does not exist is still refused
    const named = await call(hub.url, '/users/cat/activity', root.token, {
      method: 'POST',
      body: { servers: { gpu: { last_activity: at } } },
    })
    expect(named.status).toBe(400)
    expect((await json(named)).message).toMatch(/no such server "gpu"/)
  })
})

describe('OAuth authorize', () => {
  const authorize = (client: string) =>
    `/hub/api/oauth2/authorize?${new URLSearchParams({ client_id: client, redirect_uri: '/elsewhere/', response_type: 'code', state: 's' })}`

  it('sends a browser without a session to log in before judging the client, as JupyterHub does', async () => {
    const r = await new Client(hub.url).get(authorize('no-such-client'))
    expect(r.status).toBe(302)
    const login = new URL(r.headers.get('location')!, hub.url)
    expect(login.pathname).toBe('/hub/login')
    expect(login.searchParams.get('next')).toBe(authorize('no-such-client'))
    // logged in, the unknown client is refused on the page
    const judged = await ann.client.get(authorize('no-such-client'))
    expect(judged.status).toBe(400)
    expect(await judged.text()).toContain('Unknown OAuth client &quot;no-such-client&quot;')
  })

  it('refuses a POST without a session (403), whatever the client', async () => {
    const r = await fetch(`${hub.url}/hub/api/oauth2/authorize`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'no-such-client' }),
      redirect: 'manual',
    })
    expect(r.status).toBe(403)
  })
})

describe('proxy.adminAccess: false', () => {
  it("keeps admins out of users' servers, at the proxy and in tokens for them", async () => {
    const boss = await rootOf(weak, 'boss')
    const dee = await person(boss, 'dee')
    await startServer(weak.url, dee.token, 'dee')
    expect(await open(weak.url, '/user/dee/', dee.token)).toBe(200)
    expect(await open(weak.url, '/user/dee/', boss.token)).toBe(403)
    const r = await call(weak.url, '/users/dee/tokens', boss.token, { method: 'POST', body: {} })
    expect(r.status).toBe(403)
    expect((await json(r)).message).toMatch(/access:servers!user=dee.* not held by boss/)
    // the rest of the admin role stays: managing her server
    expect((await call(weak.url, '/users/dee/server', boss.token, { method: 'DELETE' })).status).toBe(204)
  })
})
