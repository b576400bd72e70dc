// Bounded input: token lifetimes (API and token page) within hub.tokenExpiresInMaxSec and never past
// what a time can hold; records in Redis that cannot be decoded are reported and skipped, never a 500,
// and deleting their user removes them; a rename or an add never makes an admin by a name in auth.admins.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { logIn, ownToken, person, rootOf, startServer, stopServer, type Admin } from '../../support/people'
import { okServerSpawner } from '../../support/servers'
import { waitFor } from '../../../runtime/src/wait'

const MAX = 86_400
let s: Stack
let root: Admin
let erin: Admin

const api = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${s.url}/hub/api${path}`, {
    ...init,
    headers: { authorization: `token ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  })
const tokenIds = async (name: string) => (await s.state.smembers(s.keys.userTokens(name))).sort()

beforeAll(async () => {
  s = await startStack({
    hub: { tokenExpiresInMaxSec: MAX },
    spawner: okServerSpawner(),
    auth: { admins: ['boss'], native: { scryptCost: 1024 } },
    roles: [{ name: 'registrar', scopes: ['admin:users', 'delete:users'], users: ['reg'] }],
  })
  root = await rootOf(s)
  erin = await person(root, 'erin')
}, 90_000)
afterAll(async () => s?.stop(), 60_000)

describe('token lifetime', () => {
  it.each([
    [1e13, 'must not exceed 86400'],
    [MAX + 1, 'must not exceed 86400'],
    [1.5, 'integer'],
    [0, 'positive'],
    [-60, 'positive'],
    ['3600', 'must be a number'],
  ])('expires_in %s: 400 with a message, nothing stored', async (expiresIn, message) => {
    const before = await tokenIds('erin')
    const r = await api('/users/erin/tokens', erin.token, {
      method: 'POST',
      body: JSON.stringify({ expires_in: expiresIn }),
    })
    expect(r.status).toBe(400)
    expect((await json(r)).message).toContain(message)
    expect(await tokenIds('erin')).toEqual(before)
  })

  it('1e400 (Infinity once parsed) is refused too', async () => {
    const r = await api('/users/erin/tokens', erin.token, { method: 'POST', body: '{"expires_in": 1e400}' })
    expect(r.status).toBe(400)
  })

  it('without expires_in a token gets the configured maximum, as in JupyterHub; within it, what was asked', async () => {
    const t0 = Date.now()
    const r = await api('/users/erin/tokens', erin.token, { method: 'POST', body: JSON.stringify({ note: 'default' }) })
    expect(r.status).toBe(201)
    const expires = Date.parse((await json(r)).expires_at)
    expect(expires).toBeGreaterThanOrEqual(t0 + MAX * 1000 - 2000)
    expect(expires).toBeLessThanOrEqual(Date.now() + MAX * 1000 + 1000)
    const r2 = await api('/users/erin/tokens', erin.token, {
      method: 'POST',
      body: JSON.stringify({ expires_in: 3600 }),
    })
    expect(r2.status).toBe(201)
    expect(Date.parse((await json(r2)).expires_at)).toBeLessThanOrEqual(Date.now() + 3600 * 1000 + 1000)
  })

  it('the token page offers lifetimes up to the maximum, and refuses a larger one with 400 and nothing stored', async () => {
    const page = await (await erin.client.get('/hub/token')).text()
    expect(page).toContain('Max (1 day)')
    expect(page).not.toContain('1 week')
    expect(page).not.toContain('>never</option>')
    const before = await tokenIds('erin')
    for (const v of ['10000000000000', '1e13', 'abc', '-1']) {
      const r = await erin.client.postForm('/hub/token', { note: 'page', expires_in: v })
      expect(r.status).toBe(400)
      expect(await r.text()).toContain('Choose how long the token lasts')
    }
    expect(await tokenIds('erin')).toEqual(before)
    const ok = await erin.client.postForm('/hub/token', { note: 'page', expires_in: '' })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('id="new-token"')
  })
})

describe('stored values that cannot be decoded', () => {
  it('are skipped and reported (no value in the log); the user pages, API, logout, start/stop and deletion work, and deletion removes everything', async () => {
    const dana = await person(root, 'dana')
    const { id: goodId } = await ownToken(dana.client!, 'dana', { note: 'kept' })
    const { state: redis, keys } = s
    // what the unbounded API used to store, and fields corrupted by hand
    const bad: Record<string, Record<string, string>> = {
      ahuge00000001: { expires_at: String(Math.floor(Date.now() / 1000 + 1e13)), scopes: '["inherit"]' },
      anan000000001: { expires_at: 'NaN', scopes: '["inherit"]' },
      ajson00000001: { expires_at: '', scopes: '{"not": "a list' },
    }
    for (const [id, f] of Object.entries(bad)) {
      await redis
        .multi()
        .hset(keys.token(id), {
          id,
          user: 'dana',
          digest: `digest-${id}`,
          kind: 'api',
          server: '',
          note: 'SECRET-NOTE',
          created: new Date().toISOString(),
          session_id: '',
          client_id: '',
          ...f,
        })
        .sadd(keys.userTokens('dana'), id)
        .hset(keys.tokenByDigest, `digest-${id}`, id)
        .exec()
    }
    await redis.hset(keys.group('broken'), { name: 'broken', properties: '{oops' })
    // a stopped named server whose spawner state and user options are not JSON
    await redis
      .multi()
      .hset(keys.server('dana', 'old'), {
        state: 'stopped',
        spawner: '{"pid": 12',
        user_options: 'not json',
        stopped: new Date().toISOString(),
      })
      .sadd(keys.userServers('dana'), 'old')
      .exec()

    const list = await api('/users/dana/tokens', dana.token)
    expect(list.status).toBe(200)
    expect((await json(list)).api_tokens.map((t: { id: string }) => t.id)).toEqual(expect.arrayContaining([goodId]))
    expect(
      (await api(`/users/dana/tokens`, dana.token).then(json)).api_tokens.map((t: { id: string }) => t.id),
    ).not.toContain('anan000000001')
    expect((await dana.client!.get('/hub/token')).status).toBe(200)
    const model = await api('/users/dana?include_stopped_servers=1', dana.token)
    expect(model.status).toBe(200)
    expect((await json(model)).servers.old).toMatchObject({ stopped: true, user_options: {} })
    expect((await api('/groups/broken', root.token)).status).toBe(200)
    expect((await api('/users?offset=0&limit=50', root.token)).status).toBe(200)
    expect((await root.client.get('/hub/admin')).status).toBe(200)
    // start and stop go through the user's tokens (the server's token is revoked at stop)
    await startServer(s.url, dana.token, 'dana')
    await stopServer(s.url, dana.token, 'dana')
    // the owner can revoke an undecodable token by its id
    expect((await api('/users/dana/tokens/anan000000001', dana.token, { method: 'DELETE' })).status).toBe(204)
    expect(await redis.exists(keys.token('anan000000001'))).toBe(0)
    // logout (OAuth tokens of the session are looked for among the user's tokens)
    const other = await logIn(s.url, 'dana', dana.password)
    const out = await other.get('/hub/logout')
    expect(out.status).toBe(302)

    const log = () => readFileSync(join(s.dir, 'hub.log'), 'utf8')
    await waitFor(
      'the reports in the hub log',
      () => log().includes('ahuge00000001') && log().includes('ajson00000001') && log().includes('dana/old'),
      { timeoutMs: 5000 },
    )
    const reports = log()
      .split('\n')
      .filter((l) => l.includes('cannot be decoded'))
    expect(reports.filter((l) => l.includes('ajson00000001'))).toHaveLength(1) // once, however often it was read
    expect(log()).not.toContain('SECRET-NOTE')
    expect(log()).not.toContain('"not": "a list')
    expect(log()).not.toContain('not json')

    // the admin deletes dana: every token goes, the undecodable ones and the working one
    expect((await api('/users/dana', root.token, { method: 'DELETE' })).status).toBe(204)
    for (const id of [goodId, 'ahuge00000001', 'ajson00000001']) expect(await redis.exists(keys.token(id))).toBe(0)
    expect(await redis.exists(keys.server('dana', 'old'), keys.userServers('dana'))).toBe(0)
    expect(await redis.hget(keys.tokenByDigest, 'digest-ahuge00000001')).toBeNull()
    expect(await redis.exists(keys.userTokens('dana'))).toBe(0)
    const after = await api('/user', dana.token)
    expect([401, 403]).toContain(after.status)
  }, 60_000)
})

describe('admin by name', () => {
  it('a holder of admin:users can neither rename a user to a name in auth.admins nor make that user', async () => {
    const reg = await person(root, 'reg')
    await person(root, 'mallory')
    // boss exists from the start (auth.admins); the registrar deletes it, then tries to take the name
    expect((await api('/users/boss', reg.token, { method: 'DELETE' })).status).toBe(204)
    const rename = await api('/users/mallory', reg.token, { method: 'PATCH', body: JSON.stringify({ name: 'boss' }) })
    expect(rename.status).toBe(403)
    expect((await json(rename)).message).toContain('auth.admins')
    expect((await api('/users/boss', reg.token, { method: 'POST' })).status).toBe(403)
    const page = await reg.client.postForm('/hub/admin/users', { username: 'boss', password: 'boss-password-1' })
    expect(page.status).toBe(403)
    expect(await s.state.exists(s.keys.user('boss'))).toBe(0) // no user record
    // even an admin's rename is refused: the name would carry admin with it at every login
    expect(
      (await api('/users/mallory', root.token, { method: 'PATCH', body: JSON.stringify({ name: 'boss' }) })).status,
    ).toBe(403)
    // mallory is still mallory and no admin
    const m = await json(await api('/users/mallory', root.token))
    expect(m).toMatchObject({ name: 'mallory', admin: false })
    // an admin may add the configured admin back, with a password
    const add = await root.client.postForm('/hub/admin/users', { username: 'boss', password: 'boss-password-1' })
    expect(add.status).toBe(302)
  })
})
