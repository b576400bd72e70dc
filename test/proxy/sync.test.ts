// The edge proxy's local copy: change stream, full resyncs, Redis outages.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../runtime/src/wait'
import { http, startFakeServer, startStack, userRoute, PREFIX, type FakeServer, type Stack } from './harness'

const health = async (s: Stack) => {
  const r = await http(`${s.proxy.url}/_edgehub/proxy/health`)
  return { code: r.status, ...(r.json() as { status: string; synced: boolean; version: number; redis: string }) }
}
const asUser = (s: Stack, user: string, path: string) =>
  http(s.proxy.url + path, { headers: { cookie: `edgehub-session=${s.cookie(user)}` } })
const servedBy = async (s: Stack, user: string, path: string) => {
  const r = await asUser(s, user, path)
  return r.status === 200 ? (r.json().server as string) : `status ${r.status}`
}

let alice: FakeServer
let stacks: Stack[] = []

async function stackWith(opts: Parameters<typeof startStack>[0] = {}) {
  const s = await startStack(opts)
  stacks.push(s)
  return s
}

afterEach(async () => {
  await Promise.all(stacks.map((s) => s.stop()))
  stacks = []
})

afterAll(async () => {
  await alice?.close()
})

describe('proxy sync: change stream', () => {
  it('serves a route within 1 s of its addition and drops it within 1 s of its removal', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    await waitFor('route added', async () => (await servedBy(s, 'alice', '/user/alice/')) === 'alice', {
      timeoutMs: 1000,
      intervalMs: 20,
    })
    await s.tables.del('routes', '/user/alice/')
    await waitFor('route removed', async () => (await asUser(s, 'alice', '/user/alice/')).status === 302, {
      timeoutMs: 1000,
      intervalMs: 20,
    })
    expect((await health(s)).version).toBe(await s.tables.version())
  })

  it('applies a batch of changes in order', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    const ops = Array.from({ length: 300 }, (_, i) => ({
      table: 'routes' as const,
      key: `/user/u${i}/`,
      value: userRoute(`u${i}`, alice.target, `t${i}`),
    }))
    const v = await s.tables.apply([...ops, { table: 'routes', key: '/user/u7/', delete: true }])
    await waitFor('batch applied', async () => (await health(s)).version === v)
    expect(await servedBy(s, 'u299', '/user/u299/')).toBe('alice')
    expect((await asUser(s, 'u7', '/user/u7/')).status).toBe(302)
  })
})

describe('proxy sync: propagation timing', () => {
  const applied = async (s: Stack, v: number) => {
    const r = await http(`${s.proxy.url}/_edgehub/proxy/health?applied=${v}`)
    return (r.json() as { applied_ms?: number }).applied_ms
  }

  it('tells when it applied a change of the stream (health?applied=N)', async () => {
    const s = await stackWith()
    await waitFor('first sync', async () => (await health(s)).synced) // later changes come by the stream
    const before = Date.now()
    const v = await s.tables.set('routes', '/user/erin/', userRoute('erin', '127.0.0.1:9', 't'))
    await waitFor('change applied', async () => (await health(s)).version >= v)
    const at = await applied(s, v)
    expect(at).toBeGreaterThanOrEqual(before - 1)
    expect(at).toBeLessThanOrEqual(Date.now())
    expect(await applied(s, v + 1000)).toBeUndefined()
  })
})

describe('proxy sync: per-worker caches', () => {
  // each request is a new connection, so both workers answer some of them
  const servers = async (s: Stack, user: string, n: number) => {
    const seen = new Set<string>()
    for (let i = 0; i < n; i++) seen.add(await servedBy(s, user, `/user/${user}/`))
    return [...seen]
  }

  it('drops a cached route in every worker when it changes', async () => {
    alice ??= await startFakeServer('alice')
    const bob = await startFakeServer('bob')
    try {
      const s = await stackWith()
      await s.tables.set('routes', '/user/carol/', userRoute('carol', alice.target, 't'))
      await waitFor('route served', async () => (await servedBy(s, 'carol', '/user/carol/')) === 'alice')
      expect(await servers(s, 'carol', 40)).toEqual(['alice'])
      const v = await s.tables.set('routes', '/user/carol/', userRoute('carol', bob.target, 't'))
      await waitFor('change applied', async () => (await health(s)).version === v)
      expect(await servers(s, 'carol', 40)).toEqual(['bob'])
    } finally {
      await bob.close()
    }
  })

  it('starts over when more changes arrived than the workers can catch up on', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await s.tables.set('routes', '/user/dave/', userRoute('dave', alice.target, 't'))
    await waitFor('route served', async () => (await servedBy(s, 'dave', '/user/dave/')) === 'alice')
    expect(await servers(s, 'dave', 20)).toEqual(['alice'])
    // the removal, then more numbered changes than the proxy keeps (10,000) before any request
    await s.tables.del('routes', '/user/dave/')
    let v = 0
    for (let i = 0; i < 10_500; i += 1500) {
      const ops = Array.from({ length: 1500 }, (_, k) => ({
        table: 'routes' as const,
        key: `/user/x${i + k}/`,
        value: userRoute(`x${i + k}`, alice.target, 't'),
      }))
      v = await s.tables.apply(ops)
    }
    await waitFor('changes applied', async () => (await health(s)).version === v, { timeoutMs: 10_000 })
    for (let i = 0; i < 20; i++) expect((await asUser(s, 'dave', '/user/dave/')).status).toBe(302)
  })
})

describe('proxy sync: full resync', () => {
  it('converges after a gap in the stream (stream deleted, version bumped)', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    await s.tables.set('routes', '/user/gone/', userRoute('gone', alice.target, 't'))
    await waitFor('synced', async () => (await servedBy(s, 'gone', '/user/gone/')) === 'alice')
    // behind the stream's back: the proxy can only learn this by a full sync
    await s.client.del(`${PREFIX}proxy:changes`)
    await s.client.hdel(`${PREFIX}proxy:routes`, '/user/gone/')
    await s.client.incrby(`${PREFIX}proxy:version`, 5)
    const v = await s.tables.set('routes', '/user/new/', userRoute('new', alice.target, 't'))
    await waitFor('resynced', async () => (await health(s)).version === v, { timeoutMs: 5000 })
    expect(await servedBy(s, 'new', '/user/new/')).toBe('alice')
    expect((await asUser(s, 'gone', '/user/gone/')).status).toBe(302)
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
  })

  it('reads replies that span many socket reads, from the stream and in a full sync', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await waitFor('first sync', async () => (await health(s)).synced)
    // one value several times the proxy's 64 KiB read size, among enough entries to fill many reads
    const big = { ...userRoute('big', alice.target, 't'), note: 'x'.repeat(300_000) }
    const ops = Array.from({ length: 2000 }, (_, i) => ({
      table: 'routes' as const,
      key: `/user/m${i}/`,
      value: userRoute(`m${i}`, alice.target, `t${i}`),
    }))
    const v = await s.tables.apply([
      ...ops.slice(0, 1000),
      { table: 'routes', key: '/user/big/', value: big },
      ...ops.slice(1000),
    ])
    await waitFor('stream applied', async () => (await health(s)).version === v, { timeoutMs: 5000 })
    for (const user of ['m0', 'm999', 'big', 'm1999']) expect(await servedBy(s, user, `/user/${user}/`)).toBe('alice')
    // the same tables once more through a full sync (the stream is gone)
    await s.client.del(`${PREFIX}proxy:changes`)
    await s.client.hdel(`${PREFIX}proxy:routes`, '/user/m5/')
    await s.client.incrby(`${PREFIX}proxy:version`, 5)
    const w = await s.tables.set('routes', '/user/after/', userRoute('after', alice.target, 't'))
    await waitFor('resynced', async () => (await health(s)).version === w, { timeoutMs: 5000 })
    for (const user of ['m0', 'big', 'm1999', 'after']) expect(await servedBy(s, user, `/user/${user}/`)).toBe('alice')
    expect((await asUser(s, 'm5', '/user/m5/')).status).toBe(302)
  })

  it('converges after FLUSHDB and a rewrite at a lower version', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    for (let i = 0; i < 5; i++) await s.tables.set('routes', `/user/old${i}/`, userRoute(`old${i}`, alice.target, 't'))
    await waitFor('synced', async () => (await health(s)).version === (await s.tables.version()))
    await s.client.flushdb()
    await s.tables.set('keys', s.kid, { secret: s.secret, created: 0 })
    const v = await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    expect(v).toBe(2)
    await waitFor('resynced', async () => (await health(s)).version === v, { timeoutMs: 5000 })
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
    expect((await asUser(s, 'old1', '/user/old1/')).status).toBe(302)
  })
})

describe('proxy sync: a stream it cannot follow', () => {
  it('backs off between full syncs instead of spinning', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    for (let i = 0; i < 3; i++) await s.tables.set('routes', `/user/u${i}/`, userRoute(`u${i}`, alice.target, 't'))
    const v = await s.tables.version()
    await waitFor('synced', async () => (await health(s)).version === v)
    // version key lost, stream trimmed: every snapshot (version 0) is followed by a gap
    await s.client.xtrim(`${PREFIX}proxy:changes`, 'MAXLEN', 1)
    await s.client.config('RESETSTAT')
    await s.client.del(`${PREFIX}proxy:version`)
    const execs = async () => Number(/cmdstat_exec:calls=(\d+)/.exec(await s.client.info('commandstats'))?.[1] ?? 0)
    await waitFor('first resync', async () => (await execs()) >= 1, { timeoutMs: 5000, intervalMs: 10 })
    const t1 = Date.now()
    await waitFor('more resyncs', async () => (await execs()) >= 4, { timeoutMs: 10_000, intervalMs: 10 })
    expect(Date.now() - t1).toBeGreaterThanOrEqual(500)
    expect(await servedBy(s, 'u1', '/user/u1/')).toBe('alice')
  })
})

describe('proxy sync: Redis outages', () => {
  it('keeps serving its copy while Redis is down and picks up changes when it returns', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    await waitFor('synced', async () => (await servedBy(s, 'alice', '/user/alice/')) === 'alice')
    await s.stopRedis()
    await waitFor('proxy noticed', async () => (await health(s)).redis === 'disconnected')
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
    expect((await health(s)).code).toBe(200)

    await s.startRedis()
    await s.tables.set('routes', '/user/bob/', userRoute('bob', alice.target, 't'))
    await waitFor('change after outage', async () => (await servedBy(s, 'bob', '/user/bob/')) === 'alice', {
      timeoutMs: 10_000,
    })
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
  })

  it('answers 503 until its first sync when Redis is down at start', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith({ redisFirst: false })
    const h = await health(s)
    expect(h.code).toBe(503)
    expect(h.status).toBe('starting')
    expect(h.synced).toBe(false)
    const page = await asUser(s, 'alice', '/user/alice/')
    expect(page.status).toBe(503)
    expect(page.body).toContain('has not loaded its routing table yet')
    const api = await http(`${s.proxy.url}/user/alice/api/x`)
    expect(api.status).toBe(503)
    expect(api.json()).toEqual({ status: 503, message: expect.stringContaining('routing table') })
    // the hub does its own authentication: it is reachable before the first sync
    expect((await http(`${s.proxy.url}/hub/home`)).status).toBe(200)

    await s.startRedis()
    await s.tables.set('keys', s.kid, { secret: s.secret, created: 0 })
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    await waitFor('first sync', async () => (await health(s)).code === 200, { timeoutMs: 10_000 })
    await waitFor('served', async () => (await servedBy(s, 'alice', '/user/alice/')) === 'alice')
  })
})

describe('proxy sync: a request before the first sync', () => {
  it('is held until the proxy has synced (a load balancer sending traffic to a proxy just started)', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith({ redisFirst: false })
    expect((await health(s)).synced).toBe(false)
    const held = asUser(s, 'alice', '/user/alice/')
    await s.startRedis()
    await s.tables.set('keys', s.kid, { secret: s.secret, created: 0 })
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    // answered from a synced copy, not refused: 200, or the login redirect when the sync landed
    // between Redis starting and the signing key being written
    const r = await held
    expect([200, 302]).toContain(r.status)
    expect((await health(s)).synced).toBe(true)
  })
})

describe('proxy health', () => {
  it('shows the Redis address to local callers only', async () => {
    const s = await stackWith()
    const { get } = await import('node:http')
    const from = (localAddress: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        get(`${s.proxy.url}/_edgehub/proxy/health`, { localAddress }, (res) => {
          let body = ''
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve(JSON.parse(body)))
        }).on('error', reject)
      })
    const local = await waitFor('the proxy to connect', async () => {
      const h = await from('127.0.0.1')
      return h.redis === 'connected' && h
    })
    expect(local).toHaveProperty('redis_addr', `127.0.0.1:${s.redisPort}`)
    const remote = await from('127.0.0.5')
    expect(remote).toMatchObject({ status: 'ok', redis: 'connected' })
    expect(remote).not.toHaveProperty('redis_addr')
  })
})

describe('proxy sync: Redis connection options', () => {
  it('authenticates with a password and reads the selected database', async () => {
    alice ??= await startFakeServer('alice')
    // A Redis with a password, db 3: configure it through a first stack's Redis, then point a proxy at it.
    const base = await stackWith()
    await base.client.config('SET', 'requirepass', 's3cret "pw"')
    await base.client.auth('s3cret "pw"')
    await base.client.select(3)
    await base.tables.set('keys', base.kid, { secret: base.secret, created: 0 })
    const v = await base.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    const s = await stackWith({
      redisFirst: false,
      proxy: { redis: { host: '127.0.0.1', port: base.redisPort, password: 's3cret "pw"', db: 3 } },
    })
    s.cookie = base.cookie
    await waitFor('synced with auth', async () => (await health(s)).version === v, { timeoutMs: 5000 })
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
  })
})

describe('proxy: reload', () => {
  it('keeps its synced copy and keeps serving across a reload', async () => {
    alice ??= await startFakeServer('alice')
    const s = await stackWith()
    await s.tables.set('routes', '/user/alice/', userRoute('alice', alice.target, 't'))
    await waitFor('synced', async () => (await servedBy(s, 'alice', '/user/alice/')) === 'alice')
    await s.proxy.reload()
    expect((await health(s)).synced).toBe(true)
    expect(await servedBy(s, 'alice', '/user/alice/')).toBe('alice')
    await s.tables.set('routes', '/user/bob/', userRoute('bob', alice.target, 't'))
    await waitFor('change after reload', async () => (await servedBy(s, 'bob', '/user/bob/')) === 'alice', {
      timeoutMs: 5000,
    })
  })
})
