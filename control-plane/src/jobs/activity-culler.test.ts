// Activity as the proxy sees it and as servers report it, the idle culler, expiry sweeps, and a hub
// that cannot reach Redis: one real stack, servers are small Python HTTP servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { BIN, startStack, type Stack } from '../../../test/support/stack'
import { loadConfig } from '../config/load'
import { buildDeps, type Deps } from '../deps'
import { createLogger } from '../../../runtime/src/log'
import { json } from '../../../test/support/client'
import { waitFor } from '../../../runtime/src/wait'
import { cullIdle } from './culler'
import { tokenDigest } from '../protocol'
import { okServerSpawner } from '../../../test/support/servers'

// the stack's processes, and the hub's own classes on its Redis in this process (the culler run with an
// injected clock, records a test reads directly)
let stack: Stack & { deps: Deps }
let n = 0

beforeAll(async () => {
  const started = await startStack({
    proxy: { workers: 1, activityFlushSec: 1 },
    culler: { enabled: true, timeoutSec: 8, everySec: 1 },
    spawner: okServerSpawner(),
  })
  const { config } = loadConfig({ file: started.configFile, env: {} })
  const deps = await buildDeps(config, { log: createLogger('test', { level: 'error' }) }).catch(async (err) => {
    await started.stop()
    throw err
  })
  stack = Object.assign(started, { deps })
}, 120_000) // the harness gives a hub and a proxy 60 s each to answer on a loaded machine
afterAll(async () => {
  await stack?.deps.close().catch(() => {})
  await stack?.stop()
}, 60_000)

const culler = { enabled: true, timeoutSec: 4, maxAgeSec: 0, removeNamedServers: false, users: false, admins: true }

let rootAuth: { authorization: string }
beforeAll(() => {
  cli(['user', 'add', 'root', '--admin'])
  rootAuth = { authorization: `token ${cli(['token', 'issue', 'root'])}` }
})

function cli(args: string[]): string {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEHUB_')))
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', stack.configFile], { encoding: 'utf8', env })
  if (r.status !== 0) throw new Error(`edgehub ${args.join(' ')}: ${r.stderr}`)
  return r.stdout.trim()
}

/** As root through the API: POST/GET with JSON. */
async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.url}/hub/api${path}`, {
    method,
    headers: { ...rootAuth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  const text = await res.text()
  return text ? JSON.parse(text) : null
}

/** A new user, made and started through the API, with a token of their own from the CLI. */
async function running(opts: { admin?: boolean } = {}) {
  const name = `user${++n}`
  await api('POST', `/users/${name}`, opts.admin ? { admin: true } : undefined)
  const token = cli(['token', 'issue', name]) // an admin may not give a user's full scopes through the API
  const auth = { authorization: `token ${token}` }
  await api('POST', `/users/${name}/server`)
  await waitFor(
    'the server and its route at the proxy',
    async () => (await fetch(`${stack.url}/user/${name}/`, { headers: auth })).status === 200,
    { timeoutMs: 20_000 },
  )
  const model = async () => json(await fetch(`${stack.url}/hub/api/users/${name}`, { headers: auth }))
  return { name, auth, model }
}

describe('activity', () => {
  it('requests through the proxy show up as last_activity of the server and the user', async () => {
    const u = await running()
    const before = Date.now()
    await fetch(`${stack.url}/user/${u.name}/`, { headers: u.auth })
    const m = await waitFor('the proxy to flush activity', async () => {
      const m = await u.model()
      return Date.parse(m.servers['']?.last_activity ?? '') >= before - 1000 && m
    })
    expect(Date.parse(m.last_activity)).toBeGreaterThanOrEqual(Date.parse(m.servers[''].last_activity))
    // the leader rolls it up into the user record too (what user listings read)
    await waitFor(
      'the user record to follow',
      async () => Date.parse((await stack.deps.users.get(u.name))?.lastActivity ?? '') >= before - 1000,
    )
    await stack.deps.orchestrator.stop(u.name, '')
  }, 30_000)

  it('counts using the hub as activity of the user', async () => {
    const name = `user${++n}`
    await stack.deps.users.create(name)
    const { token } = await stack.deps.tokens.issue(name)
    expect((await stack.deps.users.get(name))?.lastActivity).toBeNull()
    const before = Date.now()
    expect((await fetch(`${stack.url}/hub/api/user`, { headers: { authorization: `token ${token}` } })).status).toBe(
      200,
    )
    expect(Date.parse((await stack.deps.users.get(name))?.lastActivity ?? '')).toBeGreaterThanOrEqual(before - 1000)
  })

  it("merges activity a server reports, never going back in time nor ahead of the hub's clock", async () => {
    const u = await running()
    const post = (body: unknown) =>
      fetch(`${stack.url}/hub/api/users/${u.name}/activity`, {
        method: 'POST',
        headers: { ...u.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const serverActivity = async () => Date.parse((await u.model()).servers[''].last_activity)
    try {
      const sent = Date.now()
      const future = new Date(sent + 30 * 60_000).toISOString()
      // as JupyterHub: a server the user does not have, or a time more than 59 minutes ahead, is refused whole
      expect((await post({ servers: { nosuch: { last_activity: future } } })).status).toBe(400)
      expect((await post({ last_activity: new Date(sent + 3 * 3600_000).toISOString() })).status).toBe(400)
      expect(await json(await post({}))).toEqual({
        status: 400,
        message: 'body must contain at least one of `last_activity` or `servers`',
      })
      expect((await post({ last_activity: future, servers: { '': { last_activity: future } } })).status).toBe(200)
      const seen = await serverActivity()
      expect(seen).toBeGreaterThanOrEqual(sent) // counted, as "now"
      expect(seen).toBeLessThanOrEqual(Date.now()) // a clock ahead of the hub's is not believed
      expect(Date.parse((await u.model()).last_activity)).toBeLessThanOrEqual(Date.now())
      expect((await post({ servers: { '': { last_activity: new Date(0).toISOString() } } })).status).toBe(200)
      expect(await serverActivity()).toBeGreaterThanOrEqual(seen)
      const bad = await post({ last_activity: 'yesterday' })
      expect(bad.status).toBe(400)
      expect((await json(bad)).message).toMatch(/not a valid timestamp/)
    } finally {
      await stack.deps.orchestrator.stop(u.name, '')
    }
  }, 30_000)
})

describe('idle culler', () => {
  it('keeps servers in use, stops idle ones, and stops old ones with maxAgeSec', async () => {
    const d = stack.deps
    const busy = await running()
    const idle = await running()
    // both used just now: the hub's own culler (timeoutSec 8, running in real time) leaves them alone
    // for the second these checks take, however long the two starts took
    await d.activity.record([
      { user: busy.name, server: '', at: new Date() },
      { user: idle.name, server: '', at: new Date() },
    ])
    const now = Date.now()
    // 3 s from now both are recent enough; 10 s from now only the busy one (activity recorded then)
    const mine = (r: { stopped: string[] }) => r.stopped.filter((s) => s === `${busy.name}/` || s === `${idle.name}/`)
    expect(mine(await cullIdle(d, culler, now))).toEqual([])
    await d.activity.record([{ user: busy.name, server: '', at: new Date(now + 9000) }])
    expect(mine(await cullIdle(d, culler, now + 10_000))).toEqual([`${idle.name}/`])
    expect((await d.servers.get(idle.name, ''))?.state).toBe('stopped')
    expect(mine(await cullIdle(d, { ...culler, maxAgeSec: 5 }, now + 10_000))).toEqual([`${busy.name}/`])
  }, 60_000)

  it('spares admins with admins: false, and deletes inactive users with users: true', async () => {
    const d = stack.deps
    const admin = await running({ admin: true })
    await d.users.create(`waiting${n}`, { approved: false })
    await d.users.create(`gone${n}`)
    const later = Date.now() + 60_000
    const r = await cullIdle(d, { ...culler, admins: false, users: true }, later)
    expect(r.stopped).not.toContain(`${admin.name}/`)
    expect(r.removedUsers).toContain(`gone${n}`)
    expect(r.removedUsers).not.toContain(admin.name)
    expect(r.removedUsers).not.toContain(`waiting${n}`) // a sign-up awaiting approval is kept
    expect(await d.users.get(`gone${n}`)).toBeUndefined()
    await d.orchestrator.stop(admin.name, '')
  }, 60_000)

  it('runs on the hub in real time: an idle server is stopped after timeoutSec, one in use through the proxy is not', async () => {
    // culler.timeoutSec 8, everySec 1; the proxy flushes activity every second
    const idle = await running()
    const idleUsed = Date.now() // its last request (the route check) was just before
    const busy = await running()
    let use = true
    const using = (async () => {
      while (use) {
        expect((await fetch(`${stack.url}/user/${busy.name}/`, { headers: busy.auth })).status).toBe(200)
        await new Promise((r) => setTimeout(r, 500))
      }
    })()
    try {
      const state = async (u: { model: () => Promise<{ servers: Record<string, unknown> }> }) =>
        (await u.model()).servers[''] ? 'running' : 'stopped'
      await waitFor('the culler to stop the idle server', async () => (await state(idle)) === 'stopped', {
        timeoutMs: 30_000,
        intervalMs: 200,
      })
      expect(Date.now() - idleUsed).toBeGreaterThanOrEqual(8000 - 1000) // not before timeoutSec after its last use
      expect((await fetch(`${stack.url}/user/${idle.name}/`, { headers: idle.auth, redirect: 'manual' })).status).toBe(
        302,
      )
      // the busy one started with the idle one: it is still running once its activity, flushed by
      // the proxy, is 2 s (two culler rounds) past the moment the idle one was stopped
      const stoppedAt = Date.now()
      const activity = async () =>
        Date.parse(((await busy.model()).servers[''] as { last_activity: string } | undefined)?.last_activity ?? '0')
      await waitFor("the busy server's activity to move on", async () => (await activity()) > stoppedAt + 2000, {
        timeoutMs: 10_000,
        intervalMs: 200,
      })
      expect(await state(busy)).toBe('running')
    } finally {
      use = false
      await using
      await api('DELETE', `/users/${busy.name}/server`)
    }
  }, 60_000)
})

describe('expiry sweeps', () => {
  it('removes expired tokens from Redis and from every proxy table', async () => {
    const d = stack.deps
    await d.users.create(`tok${++n}`)
    const { token, record } = await d.tokens.issue(`tok${n}`, { expiresInSec: 1 })
    expect(await d.tables.get('tokens', tokenDigest(token))).toEqual({
      user: `tok${n}`,
      expires_at: new Date(record.expiresAt!).getTime() / 1000,
    })
    expect(await d.tokens.sweepExpired(Math.floor(Date.now() / 1000) + 5)).toBeGreaterThanOrEqual(1)
    expect(await d.tables.get('tokens', tokenDigest(token))).toBeUndefined()
    expect((await d.tokens.list(`tok${n}`)).map((t) => t.id)).not.toContain(record.id)
  })

  it('forgets expired sessions', async () => {
    const d = stack.deps
    const { session } = await d.sessions.create('someone')
    expect(await d.redis.sismember(d.keys.userSessions('someone'), session.sid)).toBe(1)
    await d.sessions.sweepExpired(session.exp + 1)
    expect(await d.redis.sismember(d.keys.userSessions('someone'), session.sid)).toBe(0)
  })
})

describe('jupyterhub-idle-culler against the API', () => {
  it('makes its calls: version, ready users page by page, stop a server, delete a user', async () => {
    const d = stack.deps
    await d.users.create(`culler-admin${++n}`, { admin: true })
    const admin = { authorization: `token ${(await d.tokens.issue(`culler-admin${n}`)).token}` }
    const u = await running()
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${stack.url}/hub/api${path}`, { ...init, headers: { ...admin, ...(init.headers ?? {}) } })
    expect(await json(await api('/'))).toHaveProperty('version')
    // it walks state=ready pages until next is null
    const seen: Array<{
      name: string
      servers: Record<string, { last_activity: string; started: string; ready: boolean }>
    }> = []
    let url: string | null = '/users?state=ready&offset=0&limit=1'
    while (url) {
      const body: any = await json(await api(url, { headers: { accept: 'application/jupyterhub-pagination+json' } }))
      seen.push(...body.items)
      url = body._pagination.next ? body._pagination.next.url.replace('/hub/api', '') : null
    }
    const mine = seen.find((x) => x.name === u.name)
    expect(mine?.servers[''].ready).toBe(true)
    expect(Date.parse(mine!.servers[''].last_activity)).not.toBeNaN()
    expect(Date.parse(mine!.servers[''].started)).not.toBeNaN()
    expect([202, 204]).toContain((await api(`/users/${u.name}/server`, { method: 'DELETE' })).status)
    await waitFor('the server to stop', async () => (await d.servers.get(u.name, ''))?.state === 'stopped')
    const ready = (await json(await api('/users?state=ready&limit=200'))) as Array<{ name: string }>
    expect(ready.map((x) => x.name)).not.toContain(u.name)
    expect((await api(`/users/${u.name}`, { method: 'DELETE' })).status).toBe(204)
    expect((await api(`/users/${u.name}`)).status).toBe(404)
  }, 40_000)
})
