// JupyterHub 6's server management through the proxy: GET, PUT and PATCH of
// /users/{name}/servers/{server_name} (the default server as ''), display_name and user_options on
// POST, with the spec's status codes, scopes and Server model. One hub; each test uses servers of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type Stack } from '../../support/stack'
import { json } from '../../support/client'
import { okServerSpawner } from '../../support/servers'
import { person, rootOf, serverRouted, stopServer, type Admin } from '../../support/people'
import { modelProblems } from '../../support/jupyterhub-models'

let s: Stack
let root: Admin
let alice: Admin
let bob: Admin

type Init = { method?: string; body?: unknown; raw?: string; token?: string }
const call = (path: string, o: Init = {}) =>
  fetch(`${s.url}/hub/api${path}`, {
    method: o.method ?? 'GET',
    headers: {
      authorization: `token ${o.token ?? alice.token}`,
      ...(o.body !== undefined || o.raw ? { 'content-type': 'application/json' } : {}),
    },
    body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)),
  })
/** The status and JSON answer (undefined when empty) of a call. */
async function answer(path: string, o: Init = {}): Promise<{ status: number; body: any }> {
  const r = await call(path, o)
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : undefined }
}
const server = (name: string) => answer(`/users/alice/servers/${name}`)

beforeAll(async () => {
  s = await startStack({
    hub: { allowNamedServers: true, namedServerLimitPerUser: 20 },
    spawner: okServerSpawner(),
    publicUrl: 'http://hub.example.org:8443',
  })
  root = await rootOf(s)
  alice = await person(root, 'alice')
  bob = await person(root, 'bob')
}, 90_000)
afterAll(async () => s?.stop(), 60_000)

describe('GET /users/{name}/servers/{server_name}', () => {
  it('answers the Server model; the default server exists before it ever started; 404 for others', async () => {
    const def = await answer('/users/bob/servers/', { token: bob.token })
    expect(def.status).toBe(200)
    expect(modelProblems('Server', def.body)).toEqual([])
    expect(def.body).toMatchObject({
      name: '',
      display_name: '',
      stopped: true,
      ready: false,
      pending: null,
      started: null,
      url: '/user/bob/',
    })
    // publicUrl is set: the full URLs are on it, as JupyterHub's public_url makes them
    expect(def.body.full_url).toBe('http://hub.example.org:8443/user/bob/')
    expect(def.body.full_progress_url).toBe('http://hub.example.org:8443/hub/api/users/bob/server/progress')
    expect((await answer('/users/bob/servers/never', { token: bob.token })).status).toBe(404)
    expect((await answer('/users/nobody/servers/')).status).toBe(404)
    // alice's token holds read:servers for her own servers only: bob's look missing, as in JupyterHub
    expect((await answer('/users/bob/servers/')).status).toBe(404)
    expect((await answer('/users/bob/servers/', { token: root.token })).status).toBe(200)
  })
})

describe('PUT /users/{name}/servers/{server_name}', () => {
  it('creates a stopped named server with its display name and options (201), 409 when it exists', async () => {
    const r = await answer('/users/alice/servers/put-a', {
      method: 'PUT',
      body: { display_name: 'Thesis — chapter 2', user_options: { image: 'base' } },
    })
    expect(r.status).toBe(201)
    expect(modelProblems('Server', r.body)).toEqual([])
    expect(r.body).toMatchObject({
      name: 'put-a',
      display_name: 'Thesis — chapter 2',
      stopped: true,
      ready: false,
      user_options: { image: 'base' },
      url: '/user/alice/put-a/',
    })
    expect((await server('put-a')).body).toEqual(r.body)
    expect((await answer('/users/alice/servers/put-a', { method: 'PUT' })).status).toBe(409)
    expect((await answer('/users/alice/servers/', { method: 'PUT' })).status).toBe(409) // the default server always exists
    // listed with stopped servers, with its display name
    const m = await json(await call('/users/alice?include_stopped_servers'))
    expect(m.servers['put-a']).toMatchObject({ display_name: 'Thesis — chapter 2', stopped: true })
    // the users list reads its models in bulk (state/user-bundles.ts): the same display name
    const listed = (await json(await call('/users?include_stopped_servers&limit=200', { token: root.token }))).find(
      (u: { name: string }) => u.name === 'alice',
    )
    expect(listed.servers['put-a']).toEqual(m.servers['put-a'])
    expect((await json(await call('/users/alice'))).servers['put-a']).toBeUndefined()
  })

  it("without a display name shows the server's name; a body of options alone is the options (as before 6.0)", async () => {
    const r = await answer('/users/alice/servers/put-b', { method: 'PUT', body: { image: 'gpu' } })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ name: 'put-b', display_name: 'put-b', user_options: { image: 'gpu' } })
  })

  it('refuses bad bodies and names with 400 and a message, creating nothing', async () => {
    const cases: Array<[string, Init, RegExp]> = [
      ['put-c', { raw: '{oops' }, /not valid JSON/],
      ['put-c', { raw: '[1]' }, /JSON object/],
      ['put-c', { body: { display_name: 5 } }, /display_name must be a string/],
      ['put-c', { body: { display_name: 'two  spaces' } }, /invalid display_name/],
      ['put-c', { body: { display_name: ' padded' } }, /invalid display_name/],
      ['put-c', { body: { display_name: 'x'.repeat(256) } }, /invalid display_name/],
      ['put-c', { body: { user_options: [1] } }, /user_options must be a JSON object/],
      ['put-c', { body: { display_name: 'ok', colour: 'red' } }, /unknown field: colour/],
      ['bad%2Fname', {}, /invalid server name/],
    ]
    for (const [name, init, message] of cases) {
      const r = await answer(`/users/alice/servers/${name}`, { ...init, method: 'PUT' })
      expect(r.status, JSON.stringify(init)).toBe(400)
      expect(r.body, JSON.stringify(init)).toEqual({ status: 400, message: expect.stringMatching(message) })
    }
    expect((await server('put-c')).status).toBe(404)
  })

  it('needs start:servers on that user', async () => {
    expect((await answer('/users/alice/servers/put-d', { method: 'PUT', token: bob.token })).status).toBe(404)
    const readOnly = await json(
      await call('/users/alice/tokens', { method: 'POST', body: { scopes: ['read:servers!user=alice'] } }),
    )
    expect((await answer('/users/alice/servers/put-d', { method: 'PUT', token: readOnly.token })).status).toBe(403)
    expect((await server('put-d')).status).toBe(404)
  })
})

describe('PATCH /users/{name}/servers/{server_name}', () => {
  it('changes the display name and options of a stopped server, and renames it', async () => {
    expect(
      (await answer('/users/alice/servers/patch-a', { method: 'PUT', body: { user_options: { a: 1 } } })).status,
    ).toBe(201)
    const r = await answer('/users/alice/servers/patch-a', {
      method: 'PATCH',
      body: { display_name: 'First', user_options: { a: 2 } },
    })
    expect(r.status).toBe(200)
    expect(modelProblems('Server', r.body)).toEqual([])
    expect(r.body).toMatchObject({ name: 'patch-a', display_name: 'First', user_options: { a: 2 } })
    const renamed = await answer('/users/alice/servers/patch-a', { method: 'PATCH', body: { name: 'patch-b' } })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({
      name: 'patch-b',
      display_name: 'First',
      user_options: { a: 2 },
      url: '/user/alice/patch-b/',
    })
    expect((await server('patch-a')).status).toBe(404)
    expect((await server('patch-b')).body).toEqual(renamed.body)
  })

  it('refuses: 404 no such server, 409 a taken name, 400 an empty or unknown change, a rename to the default', async () => {
    await answer('/users/alice/servers/patch-c', { method: 'PUT' })
    await answer('/users/alice/servers/patch-d', { method: 'PUT' })
    expect(
      (await answer('/users/alice/servers/patch-none', { method: 'PATCH', body: { display_name: 'x' } })).status,
    ).toBe(404)
    expect((await answer('/users/alice/servers/patch-c', { method: 'PATCH', body: { name: 'patch-d' } })).status).toBe(
      409,
    )
    const bad: Array<[unknown, RegExp]> = [
      [{}, /at least one of/],
      [{ colour: 'red' }, /unknown field: colour/],
      [{ name: '' }, /default server/],
      [{ name: 5 }, /name must be a string/],
      [{ user_options: null }, /user_options must be a JSON object/],
      [{ display_name: 'a  b' }, /invalid display_name/],
    ]
    for (const [body, message] of bad) {
      const r = await answer('/users/alice/servers/patch-c', { method: 'PATCH', body })
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.message, JSON.stringify(body)).toMatch(message)
    }
    expect((await server('patch-c')).body).toMatchObject({ name: 'patch-c', display_name: 'patch-c', user_options: {} })
  })

  it('sets the options of a default server that never started', async () => {
    const r = await answer('/users/bob/servers/', {
      method: 'PATCH',
      token: bob.token,
      body: { user_options: { size: 'xl' } },
    })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ name: '', stopped: true, user_options: { size: 'xl' } })
    expect((await answer('/users/bob/servers/', { token: bob.token })).body.user_options).toEqual({ size: 'xl' })
  })

  it('refuses to change a running server (400), then the next start uses options set while stopped', async () => {
    expect(
      (await answer('/users/alice/servers/patch-run', { method: 'PUT', body: { user_options: { v: 1 } } })).status,
    ).toBe(201)
    expect([201, 202]).toContain((await answer('/users/alice/servers/patch-run', { method: 'POST' })).status)
    await serverRouted(s.url, alice.token, 'alice', { server: 'patch-run' })
    expect((await server('patch-run')).body).toMatchObject({ ready: true, user_options: { v: 1 } }) // no body: the recorded options
    const r = await answer('/users/alice/servers/patch-run', { method: 'PATCH', body: { display_name: 'Nope' } })
    expect(r.status).toBe(400)
    expect(r.body.message).toMatch(/active/)
    expect(
      (await answer('/users/alice/servers/patch-run', { method: 'PATCH', body: { name: 'patch-moved' } })).status,
    ).toBe(400)
    await stopServer(s.url, alice.token, 'alice', 'patch-run')
    expect(
      (await answer('/users/alice/servers/patch-run', { method: 'PATCH', body: { user_options: { v: 2 } } })).status,
    ).toBe(200)
    expect([201, 202]).toContain((await answer('/users/alice/servers/patch-run', { method: 'POST', body: {} })).status)
    await serverRouted(s.url, alice.token, 'alice', { server: 'patch-run' })
    expect((await server('patch-run')).body.user_options).toEqual({ v: 2 })
    await stopServer(s.url, alice.token, 'alice', 'patch-run')
  })
})

describe('POST /users/{name}/servers/{server_name} (6.0 body)', () => {
  it('sets the display name asked for, and takes user_options from its own key', async () => {
    expect([201, 202]).toContain(
      (
        await answer('/users/alice/servers/post-a', {
          method: 'POST',
          body: { display_name: 'My lab', user_options: { k: 'v' } },
        })
      ).status,
    )
    await serverRouted(s.url, alice.token, 'alice', { server: 'post-a' })
    expect((await server('post-a')).body).toMatchObject({
      display_name: 'My lab',
      user_options: { k: 'v' },
      ready: true,
    })
    expect((await json(await call('/users/alice'))).servers['post-a'].display_name).toBe('My lab')
    await stopServer(s.url, alice.token, 'alice', 'post-a')
    const bad = await answer('/users/alice/servers/post-b', { method: 'POST', body: { display_name: '  ' } })
    expect(bad.status).toBe(400)
    expect((await server('post-b')).status).toBe(404)
  })

  it('starts and stops the default server as servers/ (an empty name)', async () => {
    const dave = await person(root, 'dave')
    expect(
      (
        await answer('/users/dave/servers/', {
          method: 'PATCH',
          token: dave.token,
          body: { user_options: { size: 'xl' } },
        })
      ).status,
    ).toBe(200)
    expect([201, 202]).toContain((await answer('/users/dave/servers/', { method: 'POST', token: dave.token })).status)
    await serverRouted(s.url, dave.token, 'dave')
    const m = await answer('/users/dave/servers/', { token: dave.token })
    expect(m.body).toMatchObject({ name: '', ready: true, user_options: { size: 'xl' } })
    expect((await json(await call('/users/dave', { token: dave.token }))).server).toBe('/user/dave/')
    expect((await answer('/users/dave/servers/', { method: 'DELETE', token: dave.token })).status).toBe(204)
    expect((await answer('/users/dave/servers/', { token: dave.token })).body).toMatchObject({ stopped: true })
  })
})

describe('server names (JupyterHub 6)', () => {
  it('a new server takes a slug: 1 to 30 lower-case letters, digits and single hyphens, starting with a letter', async () => {
    for (const name of ['Upper', 'under_score', 'dot.ted', 'a--b', 'ends-', '1st', 'x'.repeat(31)]) {
      for (const method of ['PUT', 'POST']) {
        const r = await answer(`/users/alice/servers/${name}`, { method })
        expect(r.status, `${method} ${name}`).toBe(400)
        expect(r.body.message, `${method} ${name}`).toMatch(/a new server's name is 1 to 30 lower-case letters/)
      }
      expect((await server(name)).status, name).toBe(404)
    }
    await answer('/users/alice/servers/slug-ok', { method: 'PUT' })
    expect(
      (await answer('/users/alice/servers/slug-ok', { method: 'PATCH', body: { name: 'Not_A_Slug' } })).status,
    ).toBe(400)
    expect(
      (await answer('/users/alice/servers/slug-ok', { method: 'POST', body: { display_name: 'Ok' } })).status,
    ).not.toBe(400)
    expect((await answer(`/users/alice/servers/${'y'.repeat(30)}`, { method: 'PUT' })).status).toBe(201)
    await stopServer(s.url, alice.token, 'alice', 'slug-ok')
  })

  it('a server recorded under an older, wider name can still be started, stopped and renamed', async () => {
    // as an earlier release recorded it (names of up to 64 letters, digits, '.', '_', '-')
    const { state: redis, keys } = s
    await redis.hset(keys.server('alice', 'Old.Name_1'), { state: 'stopped', user_options: '{"kept":true}' })
    await redis.sadd(keys.userServers('alice'), 'Old.Name_1')
    expect((await server('Old.Name_1')).body).toMatchObject({
      name: 'Old.Name_1',
      display_name: 'Old.Name_1',
      stopped: true,
    })
    expect([201, 202]).toContain((await answer('/users/alice/servers/Old.Name_1', { method: 'POST' })).status)
    await serverRouted(s.url, alice.token, 'alice', { server: 'Old.Name_1' })
    await stopServer(s.url, alice.token, 'alice', 'Old.Name_1')
    const renamed = await answer('/users/alice/servers/Old.Name_1', { method: 'PATCH', body: { name: 'old-name' } })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({ name: 'old-name', user_options: { kept: true } })
    expect((await server('Old.Name_1')).status).toBe(404)
  })
})

describe('hub.namedServerLimitPerUser', () => {
  it('counts every named server recorded when one is created, as JupyterHub', async () => {
    const carol = await person(root, 'carol')
    // (the limit is 20: more than the other tests give alice)
    for (let i = 1; i <= 20; i++)
      expect((await answer(`/users/carol/servers/l${i}`, { method: 'PUT', token: carol.token })).status, `l${i}`).toBe(
        201,
      )
    const r = await answer('/users/carol/servers/l21', { method: 'PUT', token: carol.token })
    expect(r.status).toBe(400)
    expect(r.body.message).toMatch(/maximum of 20 named servers/)
    expect(
      (await answer('/users/carol/servers/l1', { method: 'DELETE', token: carol.token, body: { remove: true } }))
        .status,
    ).toBe(204)
    expect((await answer('/users/carol/servers/l21', { method: 'PUT', token: carol.token })).status).toBe(201)
  })
})

describe('a rename, as another user or a narrow token might try it', () => {
  it('takes the shares and share codes along, their server filters rewritten, as JupyterHub keeps them', async () => {
    expect((await answer('/users/alice/servers/shared-a', { method: 'PUT' })).status).toBe(201)
    // (users share only with the shares scope, which admins hold: root shares alice's server)
    expect(
      (await answer('/shares/alice/shared-a', { method: 'POST', token: root.token, body: { user: 'bob' } })).status,
    ).toBe(200)
    const code = await answer('/share-codes/alice/shared-a', { method: 'POST', token: root.token })
    expect(code.status).toBe(200)
    expect(
      (await answer('/users/alice/servers/shared-a', { method: 'PATCH', body: { name: 'shared-b' } })).status,
    ).toBe(200)
    expect((await answer('/shares/alice/shared-a', { token: root.token })).status).toBe(404) // no server of that name now
    const moved = (await answer('/shares/alice/shared-b', { token: root.token })).body.items
    expect(moved.map((x: { user: { name: string } }) => x.user.name)).toEqual(['bob'])
    expect(moved[0].scopes).toEqual(['access:servers!server=alice/shared-b'])
    const codes = (await answer('/share-codes/alice/shared-b', { token: root.token })).body.items
    expect(codes.map((x: { id: string }) => x.id)).toEqual([code.body.id])
    expect(codes[0].scopes).toEqual(['access:servers!server=alice/shared-b'])
    expect((await answer('/share-codes/alice/shared-a', { token: root.token })).status).toBe(404)
    // what bob sees shared with him names the new server
    const withBob = (await answer('/users/bob/shared', { token: bob.token })).body.items.map(
      (x: { server: { name: string } }) => x.server.name,
    )
    expect(withBob).toContain('shared-b')
    expect(withBob).not.toContain('shared-a')
  })

  it('needs start:servers on the new name too: a token for one server cannot move it out of its filter', async () => {
    expect((await answer('/users/alice/servers/narrow-a', { method: 'PUT' })).status).toBe(201)
    expect((await answer('/users/alice/servers/narrow-secret', { method: 'PUT' })).status).toBe(201)
    const narrow = (
      await json(
        await call('/users/alice/tokens', {
          method: 'POST',
          body: { scopes: ['start:servers!server=alice/narrow-a', 'read:servers!server=alice/narrow-a'] },
        }),
      )
    ).token
    // a free name and a taken one answer alike (404, as a server it may not see), before anything is looked up
    for (const to of ['narrow-free', 'narrow-secret']) {
      const r = await answer('/users/alice/servers/narrow-a', { method: 'PATCH', token: narrow, body: { name: to } })
      expect(r.status, to).toBe(404)
    }
    expect(
      (
        await answer('/users/alice/servers/narrow-a', {
          method: 'PATCH',
          token: narrow,
          body: { display_name: 'Mine' },
        })
      ).status,
    ).toBe(200)
    expect((await server('narrow-a')).body.display_name).toBe('Mine')
    expect((await server('narrow-free')).status).toBe(404)
  })

  it('refuses a body over 64 KiB with 413, storing nothing', async () => {
    const big = { user_options: { blob: 'x'.repeat(65 * 1024) } }
    const r = await answer('/users/alice/servers/big-a', { method: 'PUT', body: big })
    expect(r.status).toBe(413)
    expect(r.body.message).toMatch(/64 KiB/)
    expect((await server('big-a')).status).toBe(404)
    expect(
      (
        await answer('/users/alice/servers/big-a', {
          method: 'PUT',
          body: { user_options: { blob: 'x'.repeat(60 * 1024) } },
        })
      ).status,
    ).toBe(201)
  })
})

describe('hub.namedServerLimitPerUser of 1, against starts and creates at once', () => {
  let one: Stack
  let ops: Admin
  beforeAll(async () => {
    one = await startStack({ hub: { allowNamedServers: true, namedServerLimitPerUser: 1 }, spawner: okServerSpawner() })
    ops = await rootOf(one, 'ops')
  }, 90_000)
  afterAll(async () => one?.stop(), 60_000)
  const at = (path: string, o: Init = {}) =>
    fetch(`${one.url}/hub/api${path}`, {
      method: o.method ?? 'GET',
      headers: { authorization: `token ${o.token ?? ops.token}`, 'content-type': 'application/json' },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    })

  it('a refused start with a display name records nothing', async () => {
    expect([201, 202]).toContain((await at('/users/ops/servers/first', { method: 'POST' })).status)
    const refused = await at('/users/ops/servers/second', { method: 'POST', body: { display_name: 'Second' } })
    expect(refused.status).toBe(400)
    expect((await json(refused)).message).toMatch(/already has 1 named server/)
    expect((await at('/users/ops/servers/second')).status).toBe(404)
    expect((await json(await at('/users/ops?include_stopped_servers'))).servers.second).toBeUndefined()
  })

  it('two creates at once take the last place once', async () => {
    const dee = await person(ops, 'dee')
    const results = await Promise.all(
      ['p', 'q', 'r'].map((n) => at(`/users/dee/servers/${n}`, { method: 'PUT', token: dee.token })),
    )
    expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400])
    expect(
      Object.keys((await json(await at('/users/dee?include_stopped_servers', { token: dee.token }))).servers).filter(
        Boolean,
      ),
    ).toHaveLength(1)
  })
})
